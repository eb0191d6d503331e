package postgres

import (
	"encoding/json"
	"testing"
)

// rawMessageScan copies, drops the binary format's version byte, refuses
// another version, and reads SQL NULL as nil.
func TestRawMessageScan(t *testing.T) {
	var got json.RawMessage
	src := []byte{1, '{', '}'}
	if err := (rawMessageScan{binary: true}).Scan(src, &got); err != nil || string(got) != "{}" {
		t.Fatalf("binary: %q, %v", got, err)
	}
	src[1] = '['
	if string(got) != "{}" {
		t.Error("the value shares the read buffer")
	}
	if err := (rawMessageScan{binary: true}).Scan([]byte{2, '{', '}'}, &got); err == nil {
		t.Error("version 2 accepted")
	}
	if err := (rawMessageScan{}).Scan([]byte(`{"a": 1}`), &got); err != nil || string(got) != `{"a": 1}` {
		t.Errorf("text: %q, %v", got, err)
	}
	if err := (rawMessageScan{}).Scan(nil, &got); err != nil || got != nil {
		t.Errorf("NULL: %q, %v", got, err)
	}
}
