package cache

import "testing"

// TestAdmission wants a page admitted on its second read, not its first,
// and keys differing in any one field kept apart.
func TestAdmission(t *testing.T) {
	var a Admission
	base := PageKey{Cluster: 1, Epoch: 2, From: 101, Size: 100}
	others := []PageKey{
		{Cluster: 3, Epoch: 2, From: 101, Size: 100},
		{Cluster: 1, Epoch: 3, From: 101, Size: 100},
		{Cluster: 1, Epoch: 2, From: 201, Size: 100},
		{Cluster: 1, Epoch: 2, From: 101, Size: 500},
	}
	if a.Admit(base) {
		t.Fatal("first read admitted")
	}
	for _, k := range others {
		if a.Admit(k) {
			t.Errorf("%+v admitted on its first read, after %+v", k, base)
		}
	}
	if !a.Admit(base) {
		t.Error("second read not admitted")
	}
	for _, k := range others {
		if !a.Admit(k) {
			t.Errorf("%+v not admitted on its second read", k)
		}
	}
}
