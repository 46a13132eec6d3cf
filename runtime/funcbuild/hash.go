package funcbuild

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// sourceHash is the cache key of a build: a digest of every build input in
// dir (all files but tests, hidden files and hidden folders such as .func/),
// the generated files' shape (scaffoldKey) and the toolchain description.
func sourceHash(dir, toolchain string) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00", scaffoldKey, toolchain)
	err := walkInputs(dir, func(path, rel string, d fs.DirEntry) error {
		return hashFile(h, path, rel, d.Type())
	})
	if err != nil {
		return "", fmt.Errorf("hash %s: %w", dir, err)
	}
	return hex.EncodeToString(h.Sum(nil))[:20], nil
}

// Stamp is a cheap fingerprint of the build inputs of the function in dir:
// the name, size and modification time of each file the build cache key
// reads. It changes whenever a build input may have changed; the cache key
// then tells whether one did.
func Stamp(dir string) (string, error) {
	h := sha256.New()
	err := walkInputs(dir, func(_, rel string, d fs.DirEntry) error {
		fi, err := d.Info()
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s\x00%d\x00%d\x00%d\x00", rel, fi.Mode(), fi.Size(), fi.ModTime().UnixNano())
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("stat %s: %w", dir, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// walkInputs calls fn for each build input in dir, in lexical order: every
// file but tests, hidden files and hidden folders such as .func/; rel is
// the slash-separated path below dir.
func walkInputs(dir string, fn func(path, rel string, d fs.DirEntry) error) error {
	return filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if path != dir && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() || strings.HasSuffix(d.Name(), "_test.go") {
			return nil
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		return fn(path, filepath.ToSlash(rel), d)
	})
}

// hashFile adds one named file to h: a regular file's content, a symlink's
// target. Other kinds of files are not build inputs.
func hashFile(h hash.Hash, path, name string, mode fs.FileMode) error {
	switch {
	case mode&fs.ModeSymlink != 0:
		target, err := os.Readlink(path)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(h, "L%s\x00%s\x00", name, target)
		return err
	case !mode.IsRegular():
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	fmt.Fprintf(h, "F%s\x00%d\x00", name, fi.Size())
	_, err = io.Copy(h, f)
	return err
}
