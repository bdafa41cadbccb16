-- CreateTable
CREATE TABLE "HolidayYear" (
    "year" INTEGER NOT NULL,
    "days" TEXT NOT NULL,
    "source" TEXT NOT NULL,
    "revision" INTEGER NOT NULL DEFAULT 1,
    "importedBy" TEXT,
    "importedByName" TEXT,
    "orgId" TEXT,
    "importedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "HolidayYear_pkey" PRIMARY KEY ("year")
);

-- CreateTable
CREATE TABLE "HolidayAudit" (
    "id" TEXT NOT NULL,
    "year" INTEGER NOT NULL,
    "action" TEXT NOT NULL,
    "actor" TEXT,
    "actorName" TEXT,
    "orgId" TEXT,
    "at" TIMESTAMP(3) NOT NULL,
    "detail" TEXT NOT NULL,

    CONSTRAINT "HolidayAudit_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "CalendarNotice" (
    "orgId" TEXT NOT NULL,
    "period" TEXT NOT NULL,
    "sentAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "CalendarNotice_pkey" PRIMARY KEY ("orgId","period")
);

-- CreateIndex
CREATE INDEX "HolidayAudit_year_at_idx" ON "HolidayAudit"("year", "at");
