package policy

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

// A town setting is a JSON file the town may give in place of an embedded default (the cloud
// rules, the delegation rules): decoded strictly, checked, and named in every error.

// loadSetting reads the setting what from path with parse, or returns def() when path is empty.
func loadSetting[T any](what, path string, parse func([]byte) (T, error), def func() T) (T, error) {
	if path == "" {
		return def(), nil
	}
	var zero T
	b, err := os.ReadFile(path)
	if err != nil {
		return zero, fmt.Errorf("read %s: %w", what, err)
	}
	v, err := parse(b)
	if err != nil {
		return zero, fmt.Errorf("%s %s: %w", what, path, err)
	}
	return v, nil
}

// decodeStrict decodes JSON into v, refusing unknown fields (a misspelt key is an error, not
// a silently ignored rule).
func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("decode: %w", err)
	}
	return nil
}
