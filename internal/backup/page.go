package backup

// PageRequest selects one page of a list. Num counts from 1.
type PageRequest struct {
	Num          int
	Size         int
	IncludeCount bool
}

// Offset is the number of items before the page.
func (p PageRequest) Offset() int { return (p.Num - 1) * p.Size }

// Page is one page of a list and, when it was asked for, the total number
// of items in the whole list.
type Page[T any] struct {
	Items []T
	Total int
	// Version, when not zero, names the content of Items: every page with
	// the same Version and as many Items holds the very same items, so
	// what is made of one (an encoded body) serves the others. Stores set
	// it on pages they serve from their cache; a page read afresh has 0.
	Version uint64
}
