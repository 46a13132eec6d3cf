package funcbuild

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"time"
)

// The build cache keeps one folder per function and content hash, so every
// edit of a function adds a binary of 10-30 MB. Like Go's own build cache,
// it forgets what has not been used for a while: a cache hit marks its
// folder used (at most once an hour), and at most once a day a build
// removes the folders unused for TrimAfter. A binary removed while a funcd
// still runs it is rebuilt on its next start.
const (
	// TrimAfter is how long a cached build may go unused before it is removed.
	TrimAfter = 5 * 24 * time.Hour
	// trimEvery is how often the cache is scanned.
	trimEvery = 24 * time.Hour
	// markEvery is how stale a folder's mark may get before a hit renews it.
	markEvery = time.Hour
	// trimStamp is the file whose modification time records the last scan.
	trimStamp = "trim.txt"
)

// entryName matches the cache's folders: <function>-<hash>, as binaryPath
// names them. Nothing else in CacheDir is removed.
var entryName = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?-[0-9a-f]{20}$`)

// markUsed renews the mark of the cache folder holding bin.
func markUsed(bin string, now time.Time) {
	dir := filepath.Dir(bin)
	if fi, err := os.Stat(dir); err == nil && now.Sub(fi.ModTime()) > markEvery {
		_ = os.Chtimes(dir, now, now) // best effort: an unmarked entry is only rebuilt sooner
	}
}

// trimCache removes the folders of cacheDir unused for TrimAfter, unless
// the cache was scanned less than trimEvery ago. It returns how many
// folders it removed and their size in bytes.
func trimCache(cacheDir string, now time.Time) (removed int, freed int64, err error) {
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return 0, 0, err
	}
	stamp := filepath.Join(cacheDir, trimStamp)
	if fi, err := os.Stat(stamp); err == nil && now.Sub(fi.ModTime()) < trimEvery {
		return 0, 0, nil
	}
	if err := os.WriteFile(stamp, nil, 0o644); err != nil {
		return 0, 0, err
	}
	if err := os.Chtimes(stamp, now, now); err != nil {
		return 0, 0, err
	}
	entries, err := os.ReadDir(cacheDir)
	if err != nil {
		return 0, 0, err
	}
	var errs []error
	for _, e := range entries {
		if !e.IsDir() || !entryName.MatchString(e.Name()) {
			continue
		}
		fi, err := e.Info()
		if err != nil || now.Sub(fi.ModTime()) < TrimAfter {
			continue
		}
		dir := filepath.Join(cacheDir, e.Name())
		size := dirSize(dir)
		if err := os.RemoveAll(dir); err != nil {
			errs = append(errs, err)
			continue
		}
		removed++
		freed += size
	}
	return removed, freed, errors.Join(errs...)
}

// dirSize sums the sizes of the regular files under dir.
func dirSize(dir string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}
