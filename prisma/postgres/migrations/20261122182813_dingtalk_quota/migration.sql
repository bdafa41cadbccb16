-- CreateTable
CREATE TABLE "DingTalkApiUsage" (
    "tenant" TEXT NOT NULL,
    "month" TEXT NOT NULL,
    "api" TEXT NOT NULL,
    "calls" INTEGER NOT NULL DEFAULT 0,
    "errors" INTEGER NOT NULL DEFAULT 0,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "DingTalkApiUsage_pkey" PRIMARY KEY ("tenant","month","api")
);

-- CreateTable
CREATE TABLE "DingTalkQuotaWarning" (
    "tenant" TEXT NOT NULL,
    "month" TEXT NOT NULL,
    "level" INTEGER NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "DingTalkQuotaWarning_pkey" PRIMARY KEY ("tenant","month","level")
);
