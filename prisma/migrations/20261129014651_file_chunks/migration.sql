-- AlterTable
ALTER TABLE "SandboxMessage" ADD COLUMN "file" TEXT;

-- CreateTable
CREATE TABLE "FileChunk" (
    "fileId" TEXT NOT NULL,
    "seq" INTEGER NOT NULL,
    "bytes" BLOB NOT NULL,

    PRIMARY KEY ("fileId", "seq"),
    CONSTRAINT "FileChunk_fileId_fkey" FOREIGN KEY ("fileId") REFERENCES "DownloadFile" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- Keep the bytes of existing download links: staged here, written as chunk 0
-- below (a staging table because dropping DownloadFile would cascade into
-- FileChunk when foreign keys are on, and the PRAGMA cannot turn them off
-- inside the migration's transaction).
CREATE TABLE "_FileChunk_staged" AS SELECT "id" AS "fileId", 0 AS "seq", "bytes" FROM "DownloadFile";

-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_DownloadFile" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "orgId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "contentType" TEXT NOT NULL,
    "size" INTEGER NOT NULL,
    "createdAt" DATETIME NOT NULL,
    "expiresAt" DATETIME NOT NULL
);
INSERT INTO "new_DownloadFile" ("contentType", "createdAt", "expiresAt", "id", "name", "orgId", "size") SELECT "contentType", "createdAt", "expiresAt", "id", "name", "orgId", "size" FROM "DownloadFile";
DROP TABLE "DownloadFile";
ALTER TABLE "new_DownloadFile" RENAME TO "DownloadFile";
CREATE INDEX "DownloadFile_expiresAt_idx" ON "DownloadFile"("expiresAt");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

-- Existing files become one chunk each (at most 10 MiB, the old limit).
INSERT INTO "FileChunk" ("fileId", "seq", "bytes") SELECT "fileId", "seq", "bytes" FROM "_FileChunk_staged";
DROP TABLE "_FileChunk_staged";
