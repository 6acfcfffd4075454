-- A claimed job carries the lease its worker was given; finishing or failing it requires that
-- lease, so a worker that overran its lease cannot finish a job another worker claimed since.
ALTER TABLE jobs ADD COLUMN lease uuid;
