-- CreateTable
CREATE TABLE "InboxMessage" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "platform" TEXT NOT NULL,
    "eventKey" TEXT NOT NULL,
    "payload" TEXT NOT NULL,
    "receivedAt" DATETIME NOT NULL,
    "processedAt" DATETIME,
    "leaseOwner" TEXT,
    "leaseUntil" DATETIME,
    "attempts" INTEGER NOT NULL DEFAULT 1,
    "lastError" TEXT,
    "receipt" TEXT
);

-- CreateIndex
CREATE INDEX "InboxMessage_processedAt_leaseUntil_idx" ON "InboxMessage"("processedAt", "leaseUntil");

-- CreateIndex
CREATE INDEX "InboxMessage_receivedAt_idx" ON "InboxMessage"("receivedAt");

-- CreateIndex
CREATE UNIQUE INDEX "InboxMessage_platform_eventKey_key" ON "InboxMessage"("platform", "eventKey");
