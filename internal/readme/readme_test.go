package readme

import (
	"encoding/json"
	"fmt"
	"go/format"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestREADMESnippetsCompile builds every ```go block of README.md as a
// program of its own (through go build's -overlay, so that nothing is
// written to the tree): each must be a whole file, package clause and
// imports included. A snippet that imports mcp-go is built inside the
// gateway/mcpgo module, which has it; the others inside this one.
func TestREADMESnippetsCompile(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	snippets := goBlocks(string(readme))
	if len(snippets) == 0 {
		t.Fatal("README.md has no ```go block")
	}
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	for i, code := range snippets {
		t.Run(fmt.Sprintf("snippet%d", i+1), func(t *testing.T) {
			if !strings.HasPrefix(code, "package ") {
				t.Fatalf("not a whole file (no package clause):\n%s", code)
			}
			if formatted, err := format.Source([]byte(code)); err == nil && string(formatted) != code {
				t.Errorf("not as gofmt writes it:\n%s", formatted)
			}
			tmp := t.TempDir()
			src := filepath.Join(tmp, "main.go")
			if err := os.WriteFile(src, []byte(code), 0o644); err != nil {
				t.Fatal(err)
			}
			dir := root
			if strings.Contains(code, `"github.com/mark3labs/mcp-go/`) {
				dir = filepath.Join(root, "gateway", "mcpgo")
			}
			pkg := filepath.Join("internal", "readme", fmt.Sprintf("snippet%d", i+1))
			overlay, err := json.Marshal(map[string]map[string]string{"Replace": {filepath.Join(dir, pkg, "main.go"): src}})
			if err != nil {
				t.Fatal(err)
			}
			ov := filepath.Join(tmp, "overlay.json")
			if err := os.WriteFile(ov, overlay, 0o644); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(gobin, "build", "-overlay", ov, "-o", os.DevNull, "./"+filepath.ToSlash(pkg))
			cmd.Dir = dir
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("README snippet %d does not build: %v\n%s\n%s", i+1, err, out, code)
			}
		})
	}
}

// goBlocks returns the contents of the ```go fenced blocks of a Markdown
// text.
func goBlocks(md string) []string {
	var out []string
	for {
		_, rest, ok := strings.Cut(md, "\n```go\n")
		if !ok {
			return out
		}
		block, after, ok := strings.Cut(rest, "\n```")
		if !ok {
			return out
		}
		out = append(out, block+"\n")
		md = after
	}
}
