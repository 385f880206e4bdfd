-- A cluster's epoch changes whenever a stored checkpoint of it may have
-- moved or gone: any DELETE or UPDATE of its checkpoint rows, in the
-- transaction of the write. Appends (seq = max + 1) and inserts before the
-- first seq leave every existing (seq, checkpoint) pair as it was, so they
-- do not change it.
--
-- Readers cache pages of checkpoints by (cluster pk, epoch, first seq,
-- size), and single checkpoints with the (pk, epoch) they were read at; a
-- cached entry is right for as long as the cluster keeps that epoch, which
-- every request reads from the file. Triggers keep the epoch, so that no
-- writer can forget it: the store's prune, and any other process or tool
-- writing the same file.
--
-- The triggers fire once per row, so a write of n rows raises the epoch by
-- n: only inequality matters. The one exception is the store's seq shift
-- for an out-of-order insert (write.go), which moves rows through negative
-- seqs and would fire twice per moved row: the UPDATE trigger skips row
-- moves to or from a negative seq, and the store raises the epoch itself,
-- once, in the shift's transaction. Anything else that moves rows that way
-- must do the same.

-- +goose Up
ALTER TABLE clusters ADD COLUMN epoch INTEGER NOT NULL DEFAULT 0;

-- +goose StatementBegin
CREATE TRIGGER checkpoints_delete_epoch AFTER DELETE ON checkpoints
BEGIN
    UPDATE clusters SET epoch = epoch + 1 WHERE pk = OLD.cluster;
END;
-- +goose StatementEnd

-- Checkpoints are immutable, so an UPDATE is a seq shift or a repair by
-- hand; either way cached copies of the row are void. A row moved to
-- another cluster changes both clusters' epochs. Seqs are positive; the
-- store's shift parks rows at negative seqs and bumps the epoch itself.
-- +goose StatementBegin
CREATE TRIGGER checkpoints_update_epoch AFTER UPDATE ON checkpoints
WHEN OLD.seq > 0 AND NEW.seq > 0
BEGIN
    UPDATE clusters SET epoch = epoch + 1 WHERE pk IN (OLD.cluster, NEW.cluster);
END;
-- +goose StatementEnd

-- Cached checkpoints carry their cluster's id and group: changing either
-- voids them too.
-- +goose StatementBegin
CREATE TRIGGER clusters_identity_epoch AFTER UPDATE OF id, group_id ON clusters
BEGIN
    UPDATE clusters SET epoch = epoch + 1 WHERE pk = NEW.pk;
END;
-- +goose StatementEnd

-- clusters.pk is an INTEGER PRIMARY KEY without AUTOINCREMENT, so SQLite
-- may give a deleted cluster's pk to the next cluster created. The store
-- never deletes clusters, but if anything does, the pk's last epoch is
-- kept here and a cluster created under the same pk starts above it:
-- (pk, epoch) never names two different histories.
CREATE TABLE retired_clusters (
    pk    INTEGER NOT NULL PRIMARY KEY,
    epoch INTEGER NOT NULL
);

-- +goose StatementBegin
CREATE TRIGGER clusters_retire AFTER DELETE ON clusters
BEGIN
    INSERT OR REPLACE INTO retired_clusters (pk, epoch)
    VALUES (OLD.pk, max(OLD.epoch, coalesce((SELECT epoch FROM retired_clusters WHERE pk = OLD.pk), OLD.epoch)));
END;
-- +goose StatementEnd

-- A pk changed by hand is a delete and a create at once.
-- +goose StatementBegin
CREATE TRIGGER clusters_move AFTER UPDATE OF pk ON clusters
WHEN OLD.pk <> NEW.pk
BEGIN
    INSERT OR REPLACE INTO retired_clusters (pk, epoch)
    VALUES (OLD.pk, max(OLD.epoch, coalesce((SELECT epoch FROM retired_clusters WHERE pk = OLD.pk), OLD.epoch)));
    UPDATE clusters SET epoch = 1 + max(epoch, coalesce((SELECT epoch FROM retired_clusters WHERE pk = NEW.pk), epoch))
    WHERE pk = NEW.pk;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER clusters_reuse AFTER INSERT ON clusters
WHEN EXISTS (SELECT 1 FROM retired_clusters WHERE pk = NEW.pk)
BEGIN
    UPDATE clusters SET epoch = max(epoch, (SELECT epoch + 1 FROM retired_clusters WHERE pk = NEW.pk))
    WHERE pk = NEW.pk;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER clusters_reuse;
DROP TRIGGER clusters_move;
DROP TRIGGER clusters_retire;
DROP TABLE retired_clusters;
DROP TRIGGER clusters_identity_epoch;
DROP TRIGGER checkpoints_update_epoch;
DROP TRIGGER checkpoints_delete_epoch;
ALTER TABLE clusters DROP COLUMN epoch;
