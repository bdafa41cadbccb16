-- AlterTable
ALTER TABLE "Chat" ADD COLUMN     "leftAt" TIMESTAMP(3);
