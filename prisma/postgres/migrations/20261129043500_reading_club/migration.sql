-- CreateTable
CREATE TABLE "ClubSession" (
    "id" TEXT NOT NULL,
    "orgId" TEXT NOT NULL,
    "seq" INTEGER NOT NULL,
    "year" INTEGER NOT NULL,
    "month" INTEGER NOT NULL,
    "theme" TEXT NOT NULL,
    "startsAt" TIMESTAMP(3) NOT NULL,
    "place" TEXT NOT NULL DEFAULT '',
    "format" TEXT NOT NULL DEFAULT 'meeting',
    "parts" TEXT NOT NULL DEFAULT '[]',
    "tag" TEXT NOT NULL DEFAULT '',
    "unitId" TEXT,
    "platform" TEXT NOT NULL,
    "chatId" TEXT NOT NULL,
    "createdBy" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "ClubSession_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ClubSettings" (
    "orgId" TEXT NOT NULL,
    "reminders" TEXT NOT NULL DEFAULT '[]',
    "checkinBeforeMin" INTEGER NOT NULL DEFAULT 30,
    "checkinAfterMin" INTEGER NOT NULL DEFAULT 120,
    "archiveDays" INTEGER NOT NULL DEFAULT 14,
    "reviewDays" INTEGER NOT NULL DEFAULT 10,
    "excludedUnits" TEXT NOT NULL DEFAULT '[]',

    CONSTRAINT "ClubSettings_pkey" PRIMARY KEY ("orgId")
);

-- CreateTable
CREATE TABLE "ClubCheckin" (
    "sessionId" TEXT NOT NULL,
    "memberId" TEXT NOT NULL,
    "unitId" TEXT,
    "at" TIMESTAMP(3) NOT NULL,
    "byMemberId" TEXT,

    CONSTRAINT "ClubCheckin_pkey" PRIMARY KEY ("sessionId","memberId")
);

-- CreateTable
CREATE TABLE "ClubNote" (
    "id" TEXT NOT NULL,
    "sessionId" TEXT NOT NULL,
    "memberId" TEXT NOT NULL,
    "text" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "ClubNote_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ClubRating" (
    "sessionId" TEXT NOT NULL,
    "memberId" TEXT NOT NULL,
    "score" INTEGER NOT NULL,
    "comment" TEXT NOT NULL DEFAULT '',
    "at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "ClubRating_pkey" PRIMARY KEY ("sessionId","memberId")
);

-- CreateTable
CREATE TABLE "ClubTopic" (
    "id" TEXT NOT NULL,
    "orgId" TEXT NOT NULL,
    "seq" INTEGER NOT NULL,
    "text" TEXT NOT NULL,
    "memberId" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "ClubTopic_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ClubTopicVote" (
    "topicId" TEXT NOT NULL,
    "memberId" TEXT NOT NULL,
    "at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "ClubTopicVote_pkey" PRIMARY KEY ("topicId","memberId")
);

-- CreateTable
CREATE TABLE "ClubReview" (
    "sessionId" TEXT NOT NULL,
    "state" TEXT NOT NULL DEFAULT 'pending',
    "contactMemberId" TEXT,
    "dueAt" TIMESTAMP(3) NOT NULL,
    "content" TEXT NOT NULL DEFAULT '',
    "fileName" TEXT,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "ClubReview_pkey" PRIMARY KEY ("sessionId")
);

-- CreateTable
CREATE TABLE "ClubReviewEvent" (
    "id" TEXT NOT NULL,
    "sessionId" TEXT NOT NULL,
    "state" TEXT NOT NULL,
    "byMemberId" TEXT,
    "at" TIMESTAMP(3) NOT NULL,
    "comment" TEXT NOT NULL DEFAULT '',

    CONSTRAINT "ClubReviewEvent_pkey" PRIMARY KEY ("id")
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

-- AddForeignKey
ALTER TABLE "ClubCheckin" ADD CONSTRAINT "ClubCheckin_sessionId_fkey" FOREIGN KEY ("sessionId") REFERENCES "ClubSession"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ClubNote" ADD CONSTRAINT "ClubNote_sessionId_fkey" FOREIGN KEY ("sessionId") REFERENCES "ClubSession"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ClubRating" ADD CONSTRAINT "ClubRating_sessionId_fkey" FOREIGN KEY ("sessionId") REFERENCES "ClubSession"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ClubTopicVote" ADD CONSTRAINT "ClubTopicVote_topicId_fkey" FOREIGN KEY ("topicId") REFERENCES "ClubTopic"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ClubReview" ADD CONSTRAINT "ClubReview_sessionId_fkey" FOREIGN KEY ("sessionId") REFERENCES "ClubSession"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ClubReviewEvent" ADD CONSTRAINT "ClubReviewEvent_sessionId_fkey" FOREIGN KEY ("sessionId") REFERENCES "ClubSession"("id") ON DELETE CASCADE ON UPDATE CASCADE;
