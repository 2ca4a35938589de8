-- The identity (device:inode:size:mtime_ns) of a duplicate delivery, as lead_files.identity: a
-- daemon killed after recording a duplicate but before moving it only moves it on restart,
-- instead of recording the same delivery twice.
ALTER TABLE lead_file_duplicates ADD COLUMN identity TEXT NOT NULL DEFAULT '';
CREATE INDEX lead_file_duplicates_path ON lead_file_duplicates (path);
