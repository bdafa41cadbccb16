-- CreateTable
CREATE TABLE "QuizJournal" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "roundId" TEXT NOT NULL,
    "memberId" TEXT NOT NULL,
    "questionId" TEXT NOT NULL,
    "event" TEXT,
    "data" TEXT NOT NULL
);

-- CreateIndex
CREATE UNIQUE INDEX "QuizJournal_event_key" ON "QuizJournal"("event");

-- CreateIndex
CREATE UNIQUE INDEX "QuizJournal_roundId_memberId_questionId_key" ON "QuizJournal"("roundId", "memberId", "questionId");
