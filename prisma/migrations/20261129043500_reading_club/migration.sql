-- CreateTable
CREATE TABLE "ClubSession" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "orgId" TEXT NOT NULL,
    "seq" INTEGER NOT NULL,
    "year" INTEGER NOT NULL,
    "month" INTEGER NOT NULL,
    "theme" TEXT NOT NULL,
    "startsAt" DATETIME NOT NULL,
    "place" TEXT NOT NULL DEFAULT '',
    "format" TEXT NOT NULL DEFAULT 'meeting',
    "parts" TEXT NOT NULL DEFAULT '[]',
    "tag" TEXT NOT NULL DEFAULT '',
    "unitId" TEXT,
    "platform" TEXT NOT NULL,
    "chatId" TEXT NOT NULL,
    "createdBy" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "ClubSettings" (
    "orgId" TEXT NOT NULL PRIMARY KEY,
    "reminders" TEXT NOT NULL DEFAULT '[]',
    "checkinBeforeMin" INTEGER NOT NULL DEFAULT 30,
    "checkinAfterMin" INTEGER NOT NULL DEFAULT 120,
    "archiveDays" INTEGER NOT NULL DEFAULT 14,
    "reviewDays" INTEGER NOT NULL DEFAULT 10,
    "excludedUnits" TEXT NOT NULL DEFAULT '[]'
);

-- CreateTable
CREATE TABLE "ClubCheckin" (
    "sessionId" TEXT NOT NULL,
    "memberId" TEXT NOT NULL,
    "unitId" TEXT,
    "at" DATETIME NOT NULL,
    "byMemberId" TEXT,

    PRIMARY KEY ("sessionId", "memberId"),
    CONSTRAINT "ClubCheckin_sessionId_fkey" FOREIGN KEY ("sessionId") REFERENCES "ClubSession" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "ClubNote" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "sessionId" TEXT NOT NULL,
    "memberId" TEXT NOT NULL,
    "text" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL,
    "updatedAt" DATETIME NOT NULL,
    CONSTRAINT "ClubNote_sessionId_fkey" FOREIGN KEY ("sessionId") REFERENCES "ClubSession" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "ClubRating" (
    "sessionId" TEXT NOT NULL,
    "memberId" TEXT NOT NULL,
    "score" INTEGER NOT NULL,
    "comment" TEXT NOT NULL DEFAULT '',
    "at" DATETIME NOT NULL,

    PRIMARY KEY ("sessionId", "memberId"),
    CONSTRAINT "ClubRating_sessionId_fkey" FOREIGN KEY ("sessionId") REFERENCES "ClubSession" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "ClubTopic" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "orgId" TEXT NOT NULL,
    "seq" INTEGER NOT NULL,
    "text" TEXT NOT NULL,
    "memberId" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "ClubTopicVote" (
    "topicId" TEXT NOT NULL,
    "memberId" TEXT NOT NULL,
    "at" DATETIME NOT NULL,

    PRIMARY KEY ("topicId", "memberId"),
    CONSTRAINT "ClubTopicVote_topicId_fkey" FOREIGN KEY ("topicId") REFERENCES "ClubTopic" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "ClubReview" (
    "sessionId" TEXT NOT NULL PRIMARY KEY,
    "state" TEXT NOT NULL DEFAULT 'pending',
    "contactMemberId" TEXT,
    "dueAt" DATETIME NOT NULL,
    "content" TEXT NOT NULL DEFAULT '',
    "fileName" TEXT,
    "updatedAt" DATETIME NOT NULL,
    CONSTRAINT "ClubReview_sessionId_fkey" FOREIGN KEY ("sessionId") REFERENCES "ClubSession" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "ClubReviewEvent" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "sessionId" TEXT NOT NULL,
    "state" TEXT NOT NULL,
    "byMemberId" TEXT,
    "at" DATETIME NOT NULL,
    "comment" TEXT NOT NULL DEFAULT '',
    CONSTRAINT "ClubReviewEvent_sessionId_fkey" FOREIGN KEY ("sessionId") REFERENCES "ClubSession" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateIndex
CREATE UNIQUE INDEX "ClubSession_orgId_seq_key" ON "ClubSession"("orgId", "seq");

-- CreateIndex
CREATE UNIQUE INDEX "ClubSession_orgId_year_month_key" ON "ClubSession"("orgId", "year", "month");

-- CreateIndex
CREATE UNIQUE INDEX "ClubNote_sessionId_memberId_key" ON "ClubNote"("sessionId", "memberId");

-- CreateIndex
CREATE UNIQUE INDEX "ClubTopic_orgId_seq_key" ON "ClubTopic"("orgId", "seq");

-- CreateIndex
CREATE INDEX "ClubReviewEvent_sessionId_at_idx" ON "ClubReviewEvent"("sessionId", "at");
