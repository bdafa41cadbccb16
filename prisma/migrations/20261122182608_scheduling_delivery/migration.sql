-- AlterTable
ALTER TABLE "ScheduledItem" ADD COLUMN "lastError" TEXT;

-- CreateTable
CREATE TABLE "ScheduledMiss" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "itemId" TEXT NOT NULL,
    "orgId" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "dueAt" DATETIME NOT NULL,
    "recordedAt" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "CronRun" (
    "key" TEXT NOT NULL PRIMARY KEY,
    "job" TEXT NOT NULL,
    "owner" TEXT NOT NULL,
    "startedAt" DATETIME NOT NULL,
    "expiresAt" DATETIME NOT NULL,
    "finishedAt" DATETIME
);

-- CreateIndex
CREATE INDEX "ScheduledMiss_orgId_recordedAt_idx" ON "ScheduledMiss"("orgId", "recordedAt");

-- CreateIndex
CREATE UNIQUE INDEX "ScheduledMiss_itemId_dueAt_key" ON "ScheduledMiss"("itemId", "dueAt");

-- CreateIndex
CREATE INDEX "CronRun_startedAt_idx" ON "CronRun"("startedAt");

-- CreateIndex
CREATE INDEX "OutboxMessage_orgId_status_idx" ON "OutboxMessage"("orgId", "status");
