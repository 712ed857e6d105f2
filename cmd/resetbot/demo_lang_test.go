package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDemoLanguages runs `resetbot demo -lang` in each added language with a
// scripted terminal (reset keyword, then that language's cancel word) and
// reads the prompts in the language (TestDemoRefusesAnUnsupportedLanguage
// covers a language without a catalog).
func TestDemoLanguages(t *testing.T) {
	cases := []struct{ lang, input, want string }{
		{"fr", "réinitialiser\nannuler\n", "Quel est votre identifiant"},
		{"de", "zurücksetzen\nabbrechen\n", "Wie lautet Ihr Benutzername"},
		{"pt-BR", "redefinir\ncancelar\n", "Qual é o seu nome de usuário"},
	}
	for _, tc := range cases {
		t.Run(tc.lang, func(t *testing.T) {
			out, code := demoWith(t, tc.input, "-lang", tc.lang)
			if code != 0 || !strings.Contains(out, tc.want) {
				t.Fatalf("exit %d, output:\n%s", code, out)
			}
		})
	}
}

// demoWith runs the demo with stdin from input and returns its stdout.
func demoWith(t *testing.T, input string, args ...string) (string, int) {
	t.Helper()
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in"), filepath.Join(dir, "out")
	if err := os.WriteFile(in, []byte(input), 0o600); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Open(in)
	if err != nil {
		t.Fatal(err)
	}
	defer fi.Close()
	fo, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer fo.Close()
	stdin, stdout := os.Stdin, os.Stdout
	os.Stdin, os.Stdout = fi, fo
	code := runDemo(context.Background(), args)
	os.Stdin, os.Stdout = stdin, stdout
	if _, err := fo.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(fo)
	if err != nil {
		t.Fatal(err)
	}
	return string(b), code
}
