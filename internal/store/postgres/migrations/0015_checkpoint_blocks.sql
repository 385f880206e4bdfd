-- A cluster's checkpoints kept a second time as blocks of blockSize
-- consecutive seqs (blocks.go), one row each in the compact form of
-- codec.AppendBlock, so that a page of checkpoints is one or a few rows
-- of this table rather than one row of checkpoints each: the SQLite
-- store's layout (its migration 0015). The checkpoints table stays the
-- source of truth: blocks are derived from it, and a reader uses them
-- only while the cluster's blocks_epoch is its epoch.
--
-- block is floor((seq - 1) / blockSize): seqs may be zero or negative
-- here (a checkpoint older than all others takes min(seq) - 1), and so
-- may block numbers. A block is some 3 KB; toast_tuple_target keeps a
-- row of up to 8160 bytes whole and uncompressed in its heap page (the
-- default, some 2 KB, would compress it or move it out of line, and
-- every read would pay for that), while a larger block (a cluster of
-- very many shards) is still stored, toasted.
--
-- blocks_epoch is the epoch at which the store's own write last made the
-- blocks match the rows (NULL: never), blocks_first and blocks_last the
-- seq bounds they then held (1 and 0 for none, as the head statements
-- read an empty cluster). Any other writer (a repair by hand, a
-- checkpointd older than this) changes the epoch through the triggers of
-- 0002 but not blocks_epoch, or inserts rows outside blocks_first and
-- blocks_last, and readers fall back to the rows until the store's next
-- write to the cluster or its next Open rebuilds the blocks.

-- +goose Up
CREATE TABLE checkpoint_blocks (
    cluster bigint NOT NULL,
    block   bigint NOT NULL,
    body    bytea  NOT NULL,
    CONSTRAINT checkpoint_blocks_pkey PRIMARY KEY (cluster, block),
    CONSTRAINT checkpoint_blocks_cluster_fkey FOREIGN KEY (cluster) REFERENCES clusters (pk) ON DELETE CASCADE
) WITH (toast_tuple_target = 8160);

ALTER TABLE clusters ADD COLUMN blocks_epoch bigint;
ALTER TABLE clusters ADD COLUMN blocks_first bigint NOT NULL DEFAULT 1;
ALTER TABLE clusters ADD COLUMN blocks_last bigint NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE clusters DROP COLUMN blocks_last;
ALTER TABLE clusters DROP COLUMN blocks_first;
ALTER TABLE clusters DROP COLUMN blocks_epoch;
DROP TABLE checkpoint_blocks;
