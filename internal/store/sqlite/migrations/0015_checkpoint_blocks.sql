-- A cluster's checkpoints kept a second time as blocks of blockSize
-- consecutive seqs (blocks.go), one row each in the compact form of
-- codec.AppendBlock, so that a page of checkpoints is one or a few rows
-- of this table rather than one row of checkpoints each. The checkpoints
-- table stays the source of truth: blocks are derived from it, and a
-- reader uses them only while the cluster's blocks_epoch is its epoch.
--
-- block is the cluster's pk times 2^32 plus the block number, (seq - 1)
-- / blockSize: a rowid, so that a block of some 3.5 KB is stored in its
-- b-tree leaf, within one 4 KiB page (a WITHOUT ROWID table, an index
-- b-tree to SQLite, keeps at most about 1 KB of a row in the page and
-- the rest in overflow pages, each another read), and so that a page's
-- blocks are one range of the rowid with no index beside it.
--
-- blocks_epoch is the epoch at which the store's own write last made the
-- blocks match the rows (NULL: never), blocks_first and blocks_last the
-- seq bounds they then held (0 and 0 for none). Any other writer of the
-- file (a repair by hand, a checkpointd older than this) changes the
-- epoch through the triggers of 0002 but not blocks_epoch, or appends
-- rows beyond blocks_last, and readers fall back to the rows until the
-- store's next write or its next Open rebuilds the blocks.

-- +goose Up
CREATE TABLE checkpoint_blocks (
    block INTEGER NOT NULL PRIMARY KEY,
    body  BLOB    NOT NULL
);

ALTER TABLE clusters ADD COLUMN blocks_epoch INTEGER;
ALTER TABLE clusters ADD COLUMN blocks_first INTEGER NOT NULL DEFAULT 0;
ALTER TABLE clusters ADD COLUMN blocks_last INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE clusters DROP COLUMN blocks_last;
ALTER TABLE clusters DROP COLUMN blocks_first;
ALTER TABLE clusters DROP COLUMN blocks_epoch;
DROP TABLE checkpoint_blocks;
