-- AlterTable
ALTER TABLE "SandboxMessage" ADD COLUMN     "file" TEXT;

-- CreateTable
CREATE TABLE "FileChunk" (
    "fileId" TEXT NOT NULL,
    "seq" INTEGER NOT NULL,
    "bytes" BYTEA NOT NULL,

    CONSTRAINT "FileChunk_pkey" PRIMARY KEY ("fileId","seq")
);

-- AddForeignKey
ALTER TABLE "FileChunk" ADD CONSTRAINT "FileChunk_fileId_fkey" FOREIGN KEY ("fileId") REFERENCES "DownloadFile"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Existing files become one chunk each (at most 10 MiB, the old limit), then the column goes.
INSERT INTO "FileChunk" ("fileId", "seq", "bytes") SELECT "id", 0, "bytes" FROM "DownloadFile";

-- AlterTable
ALTER TABLE "DownloadFile" DROP COLUMN "bytes";
