-- CreateTable
CREATE TABLE "QuizJournal" (
    "id" SERIAL NOT NULL,
    "roundId" TEXT NOT NULL,
    "memberId" TEXT NOT NULL,
    "questionId" TEXT NOT NULL,
    "event" TEXT,
    "data" TEXT NOT NULL,

    CONSTRAINT "QuizJournal_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "QuizJournal_event_key" ON "QuizJournal"("event");

-- CreateIndex
CREATE UNIQUE INDEX "QuizJournal_roundId_memberId_questionId_key" ON "QuizJournal"("roundId", "memberId", "questionId");
