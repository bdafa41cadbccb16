-- CreateIndex
CREATE INDEX "QuizAnswer_roundId_memberId_idx" ON "QuizAnswer"("roundId", "memberId");
