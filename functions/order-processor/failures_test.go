package function

import "testing"

func TestFailuresFailFirst(t *testing.T) {
	var f failures
	var got []bool
	for range 4 {
		got = append(got, f.fail(7, 2))
	}
	want := []bool{true, true, false, true} // the order is forgotten once it went through
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("deliveries of order 7: got %v, want %v", got, want)
		}
	}
	if f.fail(8, 0) {
		t.Error("FAIL_FIRST=0 failed a delivery")
	}
	for id := range maxRemembered + 5 {
		f.fail(id, 1)
	}
	if len(f.seen) > maxRemembered {
		t.Errorf("remembers %d orders, want at most %d", len(f.seen), maxRemembered)
	}
}
