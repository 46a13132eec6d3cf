package funcbuild

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// cacheEntry makes a cache folder holding a binary of size bytes, last
// used age ago.
func cacheEntry(t *testing.T, cache, name string, size int, age time.Duration, now time.Time) string {
	t.Helper()
	dir := filepath.Join(cache, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "f"), make([]byte, size), 0o755); err != nil {
		t.Fatal(err)
	}
	at := now.Add(-age)
	if err := os.Chtimes(dir, at, at); err != nil {
		t.Fatal(err)
	}
	return dir
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func TestTrimCache(t *testing.T) {
	now := time.Now()
	cache := t.TempDir()
	old := cacheEntry(t, cache, "checkout-0123456789abcdef0123", 1000, TrimAfter+time.Hour, now)
	old2 := cacheEntry(t, cache, "order-processor-0123456789abcdef0124", 500, 30*24*time.Hour, now)
	recent := cacheEntry(t, cache, "checkout-0123456789abcdef0125", 100, TrimAfter-time.Hour, now)
	// Not the cache's: never removed, however old.
	foreign := cacheEntry(t, cache, "notes", 10, 365*24*time.Hour, now)
	badHash := cacheEntry(t, cache, "checkout-xyz", 10, 365*24*time.Hour, now)

	removed, freed, err := trimCache(cache, now)
	if err != nil {
		t.Fatal(err)
	}
	if removed != 2 || freed != 1500 {
		t.Errorf("got %d folders, %d bytes removed; want 2, 1500", removed, freed)
	}
	for _, dir := range []string{old, old2} {
		if exists(dir) {
			t.Errorf("%s unused for more than %v: still there", filepath.Base(dir), TrimAfter)
		}
	}
	for _, dir := range []string{recent, foreign, badHash} {
		if !exists(dir) {
			t.Errorf("%s removed, want it kept", filepath.Base(dir))
		}
	}

	// A second scan within a day does nothing, even with old entries.
	old3 := cacheEntry(t, cache, "checkout-0123456789abcdef0126", 10, TrimAfter+time.Hour, now)
	if removed, _, err := trimCache(cache, now.Add(trimEvery-time.Minute)); err != nil || removed != 0 || !exists(old3) {
		t.Errorf("scan within a day: removed %d (err %v), want nothing", removed, err)
	}
	// The next day's scan removes it, and the entry that was recent a day ago.
	if removed, _, err := trimCache(cache, now.Add(trimEvery+time.Minute)); err != nil || removed != 2 || exists(old3) || exists(recent) {
		t.Errorf("scan a day later: removed %d (err %v), want the two entries now unused for %v", removed, err, TrimAfter)
	}
}

func TestTrimCacheCreatesMissingDir(t *testing.T) {
	cache := filepath.Join(t.TempDir(), "builds")
	if _, _, err := trimCache(cache, time.Now()); err != nil {
		t.Fatalf("trim of a cache not made yet: %v", err)
	}
}

func TestMarkUsed(t *testing.T) {
	now := time.Now()
	cache := t.TempDir()
	stale := cacheEntry(t, cache, "checkout-0123456789abcdef0123", 1, 2*markEvery, now)
	fresh := cacheEntry(t, cache, "checkout-0123456789abcdef0124", 1, markEvery/2, now)
	markUsed(filepath.Join(stale, "f"), now)
	markUsed(filepath.Join(fresh, "f"), now)
	// Compared to the second: some file systems keep coarser times.
	if fi, err := os.Stat(stale); err != nil || fi.ModTime().Sub(now).Abs() > time.Second {
		t.Errorf("stale mark not renewed: %v %v", fi.ModTime(), err)
	}
	if fi, err := os.Stat(fresh); err != nil || fi.ModTime().Sub(now.Add(-markEvery/2)).Abs() > time.Second {
		t.Errorf("fresh mark rewritten (one write an hour at most): %v %v", fi.ModTime(), err)
	}
}
