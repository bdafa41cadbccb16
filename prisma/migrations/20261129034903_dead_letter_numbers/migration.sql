-- AlterTable
ALTER TABLE "OutboxMessage" ADD COLUMN "deadSeq" INTEGER;

-- CreateTable
CREATE TABLE "OrgCounter" (
    "orgId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "last" INTEGER NOT NULL,

    PRIMARY KEY ("orgId", "name")
);

-- CreateIndex
CREATE UNIQUE INDEX "OutboxMessage_orgId_deadSeq_key" ON "OutboxMessage"("orgId", "deadSeq");
