-- DropIndex
DROP INDEX "QuizJournal_event_key";
