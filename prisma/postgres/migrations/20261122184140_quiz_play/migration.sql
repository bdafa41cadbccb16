-- CreateTable
CREATE TABLE "QuizRound" (
    "id" TEXT NOT NULL,
    "orgId" TEXT NOT NULL,
    "seq" INTEGER NOT NULL,
    "kind" TEXT NOT NULL,
    "platform" TEXT NOT NULL,
    "chatId" TEXT,
    "title" TEXT NOT NULL,
    "tag" TEXT,
    "status" TEXT NOT NULL,
    "lockKey" TEXT,
    "settings" TEXT NOT NULL,
    "opensAt" TIMESTAMP(3) NOT NULL,
    "closesAt" TIMESTAMP(3),
    "parentId" TEXT,
    "planId" TEXT,
    "prevRoundId" TEXT,
    "cardRef" TEXT,
    "createdBy" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "QuizRound_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "QuizRoundQuestion" (
    "roundId" TEXT NOT NULL,
    "position" INTEGER NOT NULL,
    "questionId" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "openedAt" TIMESTAMP(3),
    "deadline" TIMESTAMP(3),
    "cardRef" TEXT,

    CONSTRAINT "QuizRoundQuestion_pkey" PRIMARY KEY ("roundId","position")
);

-- CreateTable
CREATE TABLE "QuizAnswer" (
    "id" TEXT NOT NULL,
    "orgId" TEXT NOT NULL,
    "roundId" TEXT NOT NULL,
    "questionId" TEXT NOT NULL,
    "position" INTEGER NOT NULL,
    "memberId" TEXT NOT NULL,
    "unitId" TEXT,
    "attemptId" TEXT,
    "response" TEXT NOT NULL,
    "correct" BOOLEAN NOT NULL,
    "points" INTEGER NOT NULL,
    "elapsedMs" INTEGER NOT NULL,
    "answeredAt" TIMESTAMP(3) NOT NULL,
    "voided" BOOLEAN NOT NULL DEFAULT false,

    CONSTRAINT "QuizAnswer_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "QuizAttempt" (
    "id" TEXT NOT NULL,
    "orgId" TEXT NOT NULL,
    "roundId" TEXT NOT NULL,
    "memberId" TEXT NOT NULL,
    "startedAt" TIMESTAMP(3) NOT NULL,
    "deadline" TIMESTAMP(3) NOT NULL,
    "finishedAt" TIMESTAMP(3),
    "status" TEXT NOT NULL,
    "position" INTEGER NOT NULL DEFAULT 1,

    CONSTRAINT "QuizAttempt_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "QuizInvite" (
    "roundId" TEXT NOT NULL,
    "memberId" TEXT NOT NULL,
    "orgId" TEXT NOT NULL,
    "notifiedAt" TIMESTAMP(3),

    CONSTRAINT "QuizInvite_pkey" PRIMARY KEY ("roundId","memberId")
);

-- CreateTable
CREATE TABLE "QuizTally" (
    "orgId" TEXT NOT NULL,
    "period" TEXT NOT NULL,
    "scope" TEXT NOT NULL,
    "subjectId" TEXT NOT NULL,
    "correct" INTEGER NOT NULL DEFAULT 0,
    "answered" INTEGER NOT NULL DEFAULT 0,
    "points" INTEGER NOT NULL DEFAULT 0,
    "reachedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "QuizTally_pkey" PRIMARY KEY ("orgId","period","scope","subjectId")
);

-- CreateTable
CREATE TABLE "QuizRankBucket" (
    "orgId" TEXT NOT NULL,
    "period" TEXT NOT NULL,
    "scope" TEXT NOT NULL,
    "correct" INTEGER NOT NULL,
    "count" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "QuizRankBucket_pkey" PRIMARY KEY ("orgId","period","scope","correct")
);

-- CreateTable
CREATE TABLE "QuizDailyPlan" (
    "id" TEXT NOT NULL,
    "orgId" TEXT NOT NULL,
    "platform" TEXT NOT NULL,
    "chatId" TEXT NOT NULL,
    "time" TEXT NOT NULL,
    "count" INTEGER NOT NULL,
    "tag" TEXT,
    "private" BOOLEAN NOT NULL DEFAULT false,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "itemId" TEXT,
    "createdBy" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "QuizDailyPlan_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "QuizStreak" (
    "planId" TEXT NOT NULL,
    "memberId" TEXT NOT NULL,
    "orgId" TEXT NOT NULL,
    "current" INTEGER NOT NULL DEFAULT 0,
    "best" INTEGER NOT NULL DEFAULT 0,
    "lastRoundId" TEXT,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "QuizStreak_pkey" PRIMARY KEY ("planId","memberId")
);

-- CreateTable
CREATE TABLE "QuizMistake" (
    "memberId" TEXT NOT NULL,
    "questionId" TEXT NOT NULL,
    "orgId" TEXT NOT NULL,
    "wrongCount" INTEGER NOT NULL DEFAULT 1,
    "lastWrongAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "QuizMistake_pkey" PRIMARY KEY ("memberId","questionId")
);

-- CreateIndex
CREATE UNIQUE INDEX "QuizRound_lockKey_key" ON "QuizRound"("lockKey");

-- CreateIndex
CREATE INDEX "QuizRound_orgId_kind_status_idx" ON "QuizRound"("orgId", "kind", "status");

-- CreateIndex
CREATE INDEX "QuizRound_planId_opensAt_idx" ON "QuizRound"("planId", "opensAt");

-- CreateIndex
CREATE INDEX "QuizRound_platform_chatId_kind_status_idx" ON "QuizRound"("platform", "chatId", "kind", "status");

-- CreateIndex
CREATE UNIQUE INDEX "QuizRound_orgId_seq_key" ON "QuizRound"("orgId", "seq");

-- CreateIndex
CREATE INDEX "QuizRoundQuestion_questionId_idx" ON "QuizRoundQuestion"("questionId");

-- CreateIndex
CREATE UNIQUE INDEX "QuizRoundQuestion_roundId_questionId_key" ON "QuizRoundQuestion"("roundId", "questionId");

-- CreateIndex
CREATE INDEX "QuizAnswer_orgId_memberId_answeredAt_idx" ON "QuizAnswer"("orgId", "memberId", "answeredAt");

-- CreateIndex
CREATE INDEX "QuizAnswer_orgId_unitId_answeredAt_idx" ON "QuizAnswer"("orgId", "unitId", "answeredAt");

-- CreateIndex
CREATE UNIQUE INDEX "QuizAnswer_roundId_questionId_memberId_key" ON "QuizAnswer"("roundId", "questionId", "memberId");

-- CreateIndex
CREATE UNIQUE INDEX "QuizAttempt_roundId_memberId_key" ON "QuizAttempt"("roundId", "memberId");

-- CreateIndex
CREATE INDEX "QuizTally_orgId_period_scope_correct_answered_reachedAt_idx" ON "QuizTally"("orgId", "period", "scope", "correct" DESC, "answered", "reachedAt");

-- CreateIndex
CREATE UNIQUE INDEX "QuizDailyPlan_platform_chatId_key" ON "QuizDailyPlan"("platform", "chatId");

-- CreateIndex
CREATE INDEX "QuizMistake_orgId_memberId_idx" ON "QuizMistake"("orgId", "memberId");
