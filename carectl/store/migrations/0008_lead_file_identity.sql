-- Which file on disk a lead_files row was read from: "device:inode:size:mtime_ns" of the file
-- when it was hashed. The daemon tells the file it already ingested but could not move yet (a
-- kill between the last commit and the move: same identity) from the same content dropped again
-- under the same name (a new file: a duplicate delivery), without hashing it again.
ALTER TABLE lead_files ADD COLUMN identity TEXT NOT NULL DEFAULT '';
CREATE INDEX lead_files_path ON lead_files (path);
