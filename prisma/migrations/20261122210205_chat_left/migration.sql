-- AlterTable
ALTER TABLE "Chat" ADD COLUMN "leftAt" DATETIME;
