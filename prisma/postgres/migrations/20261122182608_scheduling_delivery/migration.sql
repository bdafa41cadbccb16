-- AlterTable
ALTER TABLE "ScheduledItem" ADD COLUMN     "lastError" TEXT;

-- CreateTable
CREATE TABLE "ScheduledMiss" (
    "id" TEXT NOT NULL,
    "itemId" TEXT NOT NULL,
    "orgId" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "dueAt" TIMESTAMP(3) NOT NULL,
    "recordedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "ScheduledMiss_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "CronRun" (
    "key" TEXT NOT NULL,
    "job" TEXT NOT NULL,
    "owner" TEXT NOT NULL,
    "startedAt" TIMESTAMP(3) NOT NULL,
    "expiresAt" TIMESTAMP(3) NOT NULL,
    "finishedAt" TIMESTAMP(3),

    CONSTRAINT "CronRun_pkey" PRIMARY KEY ("key")
);

-- CreateIndex
CREATE INDEX "ScheduledMiss_orgId_recordedAt_idx" ON "ScheduledMiss"("orgId", "recordedAt");

-- CreateIndex
CREATE UNIQUE INDEX "ScheduledMiss_itemId_dueAt_key" ON "ScheduledMiss"("itemId", "dueAt");

-- CreateIndex
CREATE INDEX "CronRun_startedAt_idx" ON "CronRun"("startedAt");

-- CreateIndex
CREATE INDEX "OutboxMessage_orgId_status_idx" ON "OutboxMessage"("orgId", "status");
