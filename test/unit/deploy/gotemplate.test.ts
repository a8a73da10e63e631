import { ChartRenderer, TemplateFailure } from "./gotemplate";

// The test renderer follows Go's text/template where the chart relies on it (expected outputs are Go's).

const render = (src: string, values: Record<string, unknown> = {}, helpers = "") =>
  new ChartRenderer({ "t.yaml": src, "_h.tpl": helpers }).render("t.yaml", {
    Values: values,
    Release: { Name: "r", Namespace: "n", Service: "Helm" },
    Chart: { Name: "c", Version: "1.0.0", AppVersion: "1" },
    Template: { BasePath: "c/templates" },
  });

describe("test/unit/deploy/gotemplate.ts", () => {
  it("trims whitespace at {{- and -}}", () => {
    expect(render("a  \n  {{- .Values.x -}}  \n  b", { x: "X" })).toBe("aXb");
    expect(render("a\n{{ .Values.x }}\nb", { x: "X" })).toBe("a\nX\nb");
  });

  it("chooses if / else if / else by Go's truth (empty string, map, list and 0 are false)", () => {
    const t = "{{ if .Values.a }}A{{ else if .Values.b }}B{{ else }}C{{ end }}";
    expect(render(t, { a: "x", b: true })).toBe("A");
    expect(render(t, { a: "", b: 1 })).toBe("B");
    expect(render(t, { a: {}, b: [] })).toBe("C");
    expect(render(t, { a: 0, b: false })).toBe("C");
  });

  it("ranges over lists in order and over maps by sorted key, with variables", () => {
    expect(render("{{ range .Values.l }}[{{ . }}]{{ end }}", { l: ["b", "a"] })).toBe("[b][a]");
    expect(render("{{ range $k, $v := .Values.m }}{{ $k }}={{ $v }};{{ end }}", { m: { b: 2, a: 1 } })).toBe("a=1;b=2;");
    expect(render("{{ range .Values.l }}x{{ else }}empty{{ end }}", { l: [] })).toBe("empty");
  });

  it("assigns (=) outward and declares (:=) inward", () => {
    expect(render('{{ $a := "1" }}{{ if true }}{{ $a = "2" }}{{ end }}{{ $a }}')).toBe("2");
    expect(render('{{ $a := "1" }}{{ if true }}{{ $a := "2" }}{{ end }}{{ $a }}')).toBe("1");
  });

  it("refuses functions it does not implement, instead of guessing", () => {
    expect(() => render("{{ .Values.s | upper }}", { s: "x" })).toThrow(/not implemented/);
  });

  it("includes defines, evaluates parenthesised calls with field access and and/or returning operands; fail stops", () => {
    const helpers = '{{- define "n" -}}{{ .Values.x | quote }}{{- end -}}';
    expect(render('v: {{ include "n" . }}', { x: "X" }, helpers)).toBe('v: "X"');
    expect(render('{{ (index .Values.h 0).host }}|{{ or .Values.a "d" }}|{{ and 1 "" }}|', { h: [{ host: "h" }], a: "" })).toBe("h|d||");
    expect(() => render('{{ fail "no" }}')).toThrow(TemplateFailure);
  });

  it("indents like Helm: nindent starts a new line, toYaml has no trailing newline", () => {
    expect(render("a:{{ toYaml .Values.m | nindent 2 }}", { m: { k: 1 } })).toBe("a:\n  k: 1");
    expect(render("{{ printf \"%s-%s\" \"a\" 1 | trunc 3 }}")).toBe("a-1");
  });
});
