-- CreateTable
CREATE TABLE "SupervisionTask" (
    "id" TEXT NOT NULL,
    "orgId" TEXT NOT NULL,
    "seq" INTEGER NOT NULL,
    "title" TEXT NOT NULL,
    "checklist" TEXT NOT NULL DEFAULT '[]',
    "dueAt" TIMESTAMP(3) NOT NULL,
    "timezone" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'open',
    "claimable" BOOLEAN NOT NULL DEFAULT false,
    "escalateAfter" INTEGER NOT NULL DEFAULT 3,
    "platform" TEXT NOT NULL,
    "chatId" TEXT,
    "cardRef" TEXT,
    "createdBy" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL,
    "closedAt" TIMESTAMP(3),

    CONSTRAINT "SupervisionTask_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "SupervisionAssignee" (
    "id" TEXT NOT NULL,
    "orgId" TEXT NOT NULL,
    "taskId" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "memberId" TEXT,
    "unitId" TEXT,
    "parentId" TEXT,
    "subject" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "progress" INTEGER NOT NULL DEFAULT 0,
    "checked" TEXT NOT NULL DEFAULT '[]',
    "doneAt" TIMESTAMP(3),
    "doneBy" TEXT,
    "note" TEXT,
    "claimOf" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "SupervisionAssignee_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "SupervisionEvent" (
    "id" TEXT NOT NULL,
    "orgId" TEXT NOT NULL,
    "taskId" TEXT NOT NULL,
    "assigneeId" TEXT,
    "kind" TEXT NOT NULL,
    "actorId" TEXT,
    "detail" TEXT NOT NULL DEFAULT '{}',
    "at" TIMESTAMP(3) NOT NULL,
    "onceKey" TEXT,

    CONSTRAINT "SupervisionEvent_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "SupervisionStandup" (
    "id" TEXT NOT NULL,
    "orgId" TEXT NOT NULL,
    "platform" TEXT NOT NULL,
    "chatId" TEXT NOT NULL,
    "askAt" TEXT NOT NULL,
    "summaryAt" TEXT NOT NULL,
    "timezone" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "askItemId" TEXT,
    "summaryItemId" TEXT,
    "createdBy" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "SupervisionStandup_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "SupervisionStandupReport" (
    "id" TEXT NOT NULL,
    "standupId" TEXT NOT NULL,
    "orgId" TEXT NOT NULL,
    "date" TEXT NOT NULL,
    "memberId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "text" TEXT NOT NULL,
    "at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "SupervisionStandupReport_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "SupervisionTask_orgId_status_idx" ON "SupervisionTask"("orgId", "status");

-- CreateIndex
CREATE UNIQUE INDEX "SupervisionTask_orgId_seq_key" ON "SupervisionTask"("orgId", "seq");

-- CreateIndex
CREATE UNIQUE INDEX "SupervisionAssignee_claimOf_key" ON "SupervisionAssignee"("claimOf");

-- CreateIndex
CREATE INDEX "SupervisionAssignee_orgId_memberId_idx" ON "SupervisionAssignee"("orgId", "memberId");

-- CreateIndex
CREATE INDEX "SupervisionAssignee_parentId_idx" ON "SupervisionAssignee"("parentId");

-- CreateIndex
CREATE UNIQUE INDEX "SupervisionAssignee_taskId_subject_key" ON "SupervisionAssignee"("taskId", "subject");

-- CreateIndex
CREATE INDEX "SupervisionEvent_taskId_at_idx" ON "SupervisionEvent"("taskId", "at");

-- CreateIndex
CREATE INDEX "SupervisionEvent_orgId_at_idx" ON "SupervisionEvent"("orgId", "at");

-- CreateIndex
CREATE UNIQUE INDEX "SupervisionEvent_taskId_onceKey_key" ON "SupervisionEvent"("taskId", "onceKey");

-- CreateIndex
CREATE UNIQUE INDEX "SupervisionStandup_platform_chatId_key" ON "SupervisionStandup"("platform", "chatId");

-- CreateIndex
CREATE UNIQUE INDEX "SupervisionStandupReport_standupId_date_memberId_key" ON "SupervisionStandupReport"("standupId", "date", "memberId");

-- AddForeignKey
ALTER TABLE "SupervisionAssignee" ADD CONSTRAINT "SupervisionAssignee_taskId_fkey" FOREIGN KEY ("taskId") REFERENCES "SupervisionTask"("id") ON DELETE CASCADE ON UPDATE CASCADE;
