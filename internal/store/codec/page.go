package codec

import "github.com/checkpointd/checkpointd/internal/backup"

// PageBlocks are the blocks of a page of one cluster's checkpoints, seqs
// [From, To), as a store read them: copied out of its rows into one
// pointer-free buffer, which the collector does not scan. Each block
// answers only for its own seqs (span): a damaged block claiming seqs
// of the next one is not counted twice, so a walk of them all that
// yields To - From checkpoints yielded each seq of the page once.
type PageBlocks struct {
	From, To       int64
	Cluster, Group backup.ObjectID
	seqs           int64 // how many seqs a block spans
	bodies         []byte
	bases, ends    []int64 // each block's first seq, and where its body ends in bodies
}

// NewPageBlocks makes room for blocks blocks of a page, each spanning
// seqs seqs, the first at a multiple of seqs plus one.
func NewPageBlocks(from, to, seqs int64, cluster, group backup.ObjectID, blocks int) *PageBlocks {
	return &PageBlocks{From: from, To: to, Cluster: cluster, Group: group, seqs: seqs,
		bases: make([]int64, 0, blocks), ends: make([]int64, 0, blocks)}
}

// Add copies the body of the next block, whose first seq is base.
func (pb *PageBlocks) Add(base int64, body []byte) {
	if pb.bodies == nil {
		pb.bodies = make([]byte, 0, len(body)*cap(pb.bases))
	}
	pb.bodies = append(pb.bodies, body...)
	pb.bases, pb.ends = append(pb.bases, base), append(pb.ends, int64(len(pb.bodies)))
}

// Blocks is the number of blocks added.
func (pb *PageBlocks) Blocks() int { return len(pb.bases) }

// Len is the number of checkpoints of the page.
func (pb *PageBlocks) Len() int { return int(pb.To - pb.From) }

func (pb *PageBlocks) body(i int) []byte {
	start := int64(0)
	if i > 0 {
		start = pb.ends[i-1]
	}
	return pb.bodies[start:pb.ends[i]]
}

// span is the part of the page that block i answers for.
func (pb *PageBlocks) span(i int) (from, to int64) {
	return max(pb.From, pb.bases[i]), min(pb.To, pb.bases[i]+pb.seqs)
}

// Decode decodes the page into checkpoint values. It returns an error
// wrapping ErrCorrupt or ErrUnknownFormat for a block it cannot read;
// fewer than Len checkpoints without an error mean seqs no block holds.
func (pb *PageBlocks) Decode(dec *Decoder) ([]backup.Checkpoint, error) {
	items := make([]backup.Checkpoint, 0, pb.Len())
	var arena []backup.Part
	var err error
	for i := range pb.bases {
		from, to := pb.span(i)
		if items, arena, err = dec.DecodeBlock(items, arena, pb.body(i), pb.bases[i], from, to, pb.Cluster, pb.Group); err != nil {
			return nil, err
		}
	}
	return items, nil
}

// Walk is WalkBlock over the page's blocks in order: each checkpoint
// decoded into cp and handed to yield, until yield returns false or a
// block cannot be read (an error, met before the last checkpoint the walk
// would yield). With yield nil it counts. It returns how many
// checkpoints it yielded or counted: Len when the blocks hold the whole
// page.
func (pb *PageBlocks) Walk(dec *Decoder, cp *backup.Checkpoint, yield func(*backup.Checkpoint) bool) (int, error) {
	n, stopped := 0, false
	each := yield
	if yield != nil {
		each = func(cp *backup.Checkpoint) bool {
			stopped = !yield(cp)
			return !stopped
		}
	}
	for i := range pb.bases {
		from, to := pb.span(i)
		c, err := dec.WalkBlock(pb.body(i), pb.bases[i], from, to, pb.Cluster, pb.Group, cp, each)
		n += c
		if err != nil || stopped {
			return n, err
		}
	}
	return n, nil
}
