-- CreateTable
CREATE TABLE "InboxMessage" (
    "id" TEXT NOT NULL,
    "platform" TEXT NOT NULL,
    "eventKey" TEXT NOT NULL,
    "payload" TEXT NOT NULL,
    "receivedAt" TIMESTAMP(3) NOT NULL,
    "processedAt" TIMESTAMP(3),
    "leaseOwner" TEXT,
    "leaseUntil" TIMESTAMP(3),
    "attempts" INTEGER NOT NULL DEFAULT 1,
    "lastError" TEXT,
    "receipt" TEXT,

    CONSTRAINT "InboxMessage_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "InboxMessage_processedAt_leaseUntil_idx" ON "InboxMessage"("processedAt", "leaseUntil");

-- CreateIndex
CREATE INDEX "InboxMessage_receivedAt_idx" ON "InboxMessage"("receivedAt");

-- CreateIndex
CREATE UNIQUE INDEX "InboxMessage_platform_eventKey_key" ON "InboxMessage"("platform", "eventKey");
