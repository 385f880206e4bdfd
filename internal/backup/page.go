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
}
