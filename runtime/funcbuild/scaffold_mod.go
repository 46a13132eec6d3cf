package funcbuild

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"go/version"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/mod/modfile"
)

// scaffolding holds the go.mod and go.sum func v0.44.0 writes next to the
// main package it generates, one pair per signature (its
// templates/go/scaffolding/<signature>/, copied unchanged; the e2e tests
// hold them equal to func's own). They pin knative.dev/func-go and what it
// needs, with the checksums, so a function builds without requiring
// func-go itself or listing the scaffold's imports in its go.sum, as
// `func build` builds it.
//
//go:embed scaffolding
var scaffolding embed.FS

// scaffoldKey names the generated files' shape: the scaffolding above and
// the main template. It is part of every build's cache key, so a change to
// either builds every function again.
var scaffoldKey = func() string {
	h := sha256.New()
	h.Write([]byte(mainTemplate.Tree.Root.String()))
	h.Write([]byte(traceTemplateKey))
	_ = fs.WalkDir(scaffolding, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := scaffolding.ReadFile(path)
		fmt.Fprintf(h, "\x00%s\x00%d\x00%s", path, len(data), data)
		return err
	})
	return hex.EncodeToString(h.Sum(nil))
}()

// Scaffolding errors.
var (
	ErrModulePath = errors.New(`module path must be "function" (func's convention: the generated main package imports the function as "function")`)
)

// scaffoldFiles returns func's go.mod and go.sum for the signature.
func scaffoldFiles(s signature) (goMod, goSum []byte, err error) {
	dir := "scaffolding/" + s.name()
	if goMod, err = scaffolding.ReadFile(dir + "/go.mod.txt"); err != nil {
		return nil, nil, err
	}
	if goSum, err = scaffolding.ReadFile(dir + "/go.sum.txt"); err != nil {
		return nil, nil, err
	}
	return goMod, goSum, nil
}

// name is the signature's name in func's scaffolding, e.g. static-http.
func (s signature) name() string {
	kind := "static"
	if s.Instanced {
		kind = "instanced"
	}
	invoke := "cloudevents"
	if s.Invoke == InvokeHTTP {
		invoke = "http"
	}
	return kind + "-" + invoke
}

// scaffoldGoMod renders the go.mod of the generated main module from
// func's (base): the function module is replaced by its folder, the
// function's own replace directives apply too (func drops them), and the go
// version is the higher of the two, as the go command requires.
func scaffoldGoMod(base []byte, fnDir string) ([]byte, error) {
	fnDir, err := filepath.Abs(fnDir)
	if err != nil {
		return nil, err
	}
	path := filepath.Join(fnDir, "go.mod")
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	src, err := modfile.Parse(path, data, nil)
	if err != nil {
		return nil, err
	}
	if src.Module == nil || src.Module.Mod.Path != functionModule {
		return nil, fmt.Errorf("%s: %w", path, ErrModulePath)
	}
	out, err := modfile.Parse("go.mod", base, nil)
	if err != nil {
		return nil, fmt.Errorf("func's scaffolding go.mod: %w", err)
	}
	if src.Go != nil && (out.Go == nil || version.Compare("go"+src.Go.Version, "go"+out.Go.Version) > 0) {
		if err := out.AddGoStmt(src.Go.Version); err != nil {
			return nil, err
		}
	}
	if err := out.AddReplace(functionModule, "", fnDir, ""); err != nil {
		return nil, err
	}
	for _, r := range src.Replace {
		if r.Old.Path == functionModule {
			continue
		}
		if err := out.AddReplace(r.Old.Path, r.Old.Version, absReplace(fnDir, r.New.Path, r.New.Version), r.New.Version); err != nil {
			return nil, err
		}
	}
	out.Cleanup()
	return out.Format()
}

// absReplace makes a relative directory replacement absolute.
func absReplace(dir, path, version string) string {
	if version != "" || filepath.IsAbs(path) || !modfile.IsDirectoryPath(path) {
		return path
	}
	return filepath.Join(dir, path)
}

// scaffoldGoSum is func's go.sum (base) with the lines of the function's
// go.sum, if it has one: the checksums of the scaffold's dependencies and of
// the function's.
func scaffoldGoSum(base []byte, fnDir string) ([]byte, error) {
	own, err := os.ReadFile(filepath.Join(fnDir, "go.sum"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	lines := slices.Concat(strings.Split(string(base), "\n"), strings.Split(string(own), "\n"))
	lines = slices.DeleteFunc(lines, func(l string) bool { return strings.TrimSpace(l) == "" })
	slices.Sort(lines)
	var b bytes.Buffer
	for _, l := range slices.Compact(lines) {
		b.WriteString(l + "\n")
	}
	return b.Bytes(), nil
}
