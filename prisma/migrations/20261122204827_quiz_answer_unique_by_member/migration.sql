-- DropIndex
DROP INDEX "QuizAnswer_roundId_questionId_memberId_key";

-- CreateIndex
CREATE UNIQUE INDEX "QuizAnswer_roundId_memberId_questionId_key" ON "QuizAnswer"("roundId", "memberId", "questionId");
