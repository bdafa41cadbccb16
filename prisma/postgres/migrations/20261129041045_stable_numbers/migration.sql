-- AlterTable
ALTER TABLE "OutboxMessage" ADD COLUMN     "deadSeq" INTEGER;

-- AlterTable
ALTER TABLE "ScheduledItem" ADD COLUMN     "cancelledAt" TIMESTAMP(3),
ADD COLUMN     "seq" INTEGER;

-- CreateTable
CREATE TABLE "OrgCounter" (
    "orgId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "last" INTEGER NOT NULL,

    CONSTRAINT "OrgCounter_pkey" PRIMARY KEY ("orgId","name")
);

-- CreateIndex
CREATE UNIQUE INDEX "OutboxMessage_orgId_deadSeq_key" ON "OutboxMessage"("orgId", "deadSeq");

-- CreateIndex
CREATE UNIQUE INDEX "ScheduledItem_orgId_kind_seq_key" ON "ScheduledItem"("orgId", "kind", "seq");

-- Backfill: existing reminders keep the numbers 提醒列表 shows today (active and
-- waiting ones first, in list order), the others follow; new ones continue after.
UPDATE "ScheduledItem" SET "seq" = (
    SELECT r."n" FROM (
        SELECT "id", ROW_NUMBER() OVER (
            PARTITION BY "orgId"
            ORDER BY CASE WHEN "status" IN ('active', 'stalled') THEN 0 ELSE 1 END, "createdAt", "id"
        ) AS "n"
        FROM "ScheduledItem" WHERE "kind" = 'reminder'
    ) r WHERE r."id" = "ScheduledItem"."id"
) WHERE "kind" = 'reminder';
