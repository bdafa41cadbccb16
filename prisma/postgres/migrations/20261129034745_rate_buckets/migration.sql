-- CreateTable
CREATE TABLE "RateBucket" (
    "key" TEXT NOT NULL,
    "tat" DOUBLE PRECISION NOT NULL,
    "blockedUntil" DOUBLE PRECISION NOT NULL,
    "log" TEXT,

    CONSTRAINT "RateBucket_pkey" PRIMARY KEY ("key")
);
