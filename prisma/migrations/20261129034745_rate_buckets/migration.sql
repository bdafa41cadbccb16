-- CreateTable
CREATE TABLE "RateBucket" (
    "key" TEXT NOT NULL PRIMARY KEY,
    "tat" REAL NOT NULL,
    "blockedUntil" REAL NOT NULL,
    "log" TEXT
);
