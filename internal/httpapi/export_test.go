package httpapi

import "slices"

// Patterns returns every pattern registered on the server's mux, in
// registration order.
func (s *Server) Patterns() []string { return slices.Clone(s.mux.patterns) }
