package functions

import (
	"bytes"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// orderSchema is the order event every function exchanges: the JSON names
// and Go types of the original design's fields.
var orderSchema = []field{
	{"orderId", "int"},
	{"customerName", "string"},
	{"amount", "float64"},
	{"status", "string"},
}

type field struct{ json, typ string }

// TestOrderContract reads each function's Order type from its source and
// checks that it is the shared schema, field by field.
func TestOrderContract(t *testing.T) {
	for _, fn := range []string{"checkout", "order-processor"} {
		t.Run(fn, func(t *testing.T) {
			got := orderFields(t, filepath.Join(fn, "order.go"))
			if !reflect.DeepEqual(got, orderSchema) {
				t.Errorf("%s Order = %v, want %v", fn, got, orderSchema)
			}
		})
	}
}

// orderFields returns the JSON names and types of the struct named Order.
func orderFields(t *testing.T, path string) []field {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	var fields []field
	ast.Inspect(f, func(n ast.Node) bool {
		ts, ok := n.(*ast.TypeSpec)
		if !ok || ts.Name.Name != "Order" {
			return true
		}
		st, ok := ts.Type.(*ast.StructType)
		if !ok {
			t.Fatalf("%s: Order is not a struct", path)
		}
		for _, fld := range st.Fields.List {
			tag := ""
			if fld.Tag != nil {
				tag = reflect.StructTag(fld.Tag.Value[1 : len(fld.Tag.Value)-1]).Get("json")
			}
			fields = append(fields, field{json: tag, typ: types(fld.Type)})
		}
		return false
	})
	if fields == nil {
		t.Fatalf("%s: no Order type", path)
	}
	return fields
}

func types(e ast.Expr) string {
	if id, ok := e.(*ast.Ident); ok {
		return id.Name
	}
	return "?"
}

// shared are the files both functions carry as the same copy: each
// function is a module of its own, which func build builds alone, so they
// cannot import a common package.
var shared = []string{"log.go", "trace.go", "trace_test.go"}

// TestSharedFilesIdentical checks that no copy of a shared file drifted.
func TestSharedFilesIdentical(t *testing.T) {
	for _, name := range shared {
		a, errA := os.ReadFile(filepath.Join("checkout", name))
		b, errB := os.ReadFile(filepath.Join("order-processor", name))
		if errA != nil || errB != nil {
			t.Fatalf("read %s: %v, %v", name, errA, errB)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("checkout/%s and order-processor/%s differ: change both", name, name)
		}
	}
}
