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

// TestSharedFilesAreIdentical: files each function keeps its own copy of
// (each is a module of its own, deployed alone) stay the same, so a fix to
// one reaches both.
func TestSharedFilesAreIdentical(t *testing.T) {
	for _, name := range []string{"log.go"} {
		checkout, err := os.ReadFile(filepath.Join("checkout", name))
		if err != nil {
			t.Fatal(err)
		}
		processor, err := os.ReadFile(filepath.Join("order-processor", name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(checkout, processor) {
			t.Errorf("checkout/%s and order-processor/%s differ: keep them identical", name, name)
		}
	}
}
