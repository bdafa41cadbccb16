-- CreateTable
CREATE TABLE "HolidayYear" (
    "year" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "days" TEXT NOT NULL,
    "source" TEXT NOT NULL,
    "revision" INTEGER NOT NULL DEFAULT 1,
    "importedBy" TEXT,
    "importedByName" TEXT,
    "orgId" TEXT,
    "importedAt" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "HolidayAudit" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "year" INTEGER NOT NULL,
    "action" TEXT NOT NULL,
    "actor" TEXT,
    "actorName" TEXT,
    "orgId" TEXT,
    "at" DATETIME NOT NULL,
    "detail" TEXT NOT NULL
);

-- CreateTable
CREATE TABLE "CalendarNotice" (
    "orgId" TEXT NOT NULL,
    "period" TEXT NOT NULL,
    "sentAt" DATETIME NOT NULL,

    PRIMARY KEY ("orgId", "period")
);

-- CreateIndex
CREATE INDEX "HolidayAudit_year_at_idx" ON "HolidayAudit"("year", "at");
