-- Why a message was dead-lettered (the kernel's DeadLetter.reason): it crashed its actor twice,
-- its actor does not handle it, or its actor was stopped. Rows from before this were all crashes.
ALTER TABLE dead_letters ADD COLUMN reason TEXT NOT NULL DEFAULT 'crashed'
    CHECK (reason IN ('crashed', 'unhandled', 'stopped'));
