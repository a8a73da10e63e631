// SCIMMY's "out" coercion (`new SCIMMY.Schemas.User(data, "out", basepath)`) done without building SCIMMY's
// schema instances. Building one defines accessors, proxies and frozen objects for every attribute of every value,
// twice over, and is most of the CPU a read costs (notes/scimmy.md §9: ~0.3 ms a user, 30 ms a page of 100).
//
// The answer must stay exactly what SCIMMY gives, quirks included (empty complex values and lists kept, an empty extension
// left out with its URN still in `schemas`, dates rewritten as toISOString, `returned: never` and inbound-only attributes left
// out, unknown attributes dropped, meta.location from the base path). Scalars are still coerced by SCIMMY's own
// Attribute.coerce, which is cheap; only the walk over complex values and extensions is ours. Whatever this walk was
// not written for (attribute names in another case, namespaced extension attributes, a value of the wrong shape, an
// extension left empty) makes render() answer undefined, and the caller renders through SCIMMY instead, which also
// gives SCIMMY's error where the data is invalid. test/unit/scim/render.test.ts holds the two side by side.
import { SCIMMY } from "scimmy-routers";

type Json = Record<string, unknown>;

interface AttributeLike {
  name: string;
  type: string;
  subAttributes?: AttributeLike[];
  config: {
    direction: string;
    required: boolean;
    multiValued: boolean;
    returned: unknown;
    shadow?: boolean;
    canonicalValues: unknown;
  };
  coerce(value: unknown, direction?: string): unknown;
}

interface DefinitionLike {
  id: string;
  name: string;
  attributes: (AttributeLike | DefinitionLike)[];
}

/** The walk found something it does not mirror exactly: SCIMMY renders this one. */
class Bail extends Error {}
const bail = (): never => {
  throw new Bail();
};

const OUT = "out";

function isAttribute(a: AttributeLike | DefinitionLike): a is AttributeLike {
  return a instanceof SCIMMY.Types.Attribute;
}

function leftOut(a: AttributeLike): boolean {
  return a.config.returned === false || a.config.returned === "never";
}

function isPlainObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

const CANONICAL_DATE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/**
 * A single value SCIMMY would hand back unchanged: a string, a boolean, or a date already in toISOString's form, of
 * an attribute without canonical values. Anything else goes through SCIMMY's Attribute.coerce.
 */
function plainScalar(a: AttributeLike, v: unknown): boolean {
  if (a.config.multiValued || Array.isArray(a.config.canonicalValues)) return false;
  switch (a.type) {
    case "string":
      return typeof v === "string";
    case "boolean":
      return typeof v === "boolean";
    case "dateTime":
      if (typeof v !== "string" || !CANONICAL_DATE.test(v)) return false;
      const t = Date.parse(v);
      return !Number.isNaN(t) && new Date(t).toISOString() === v;
    default:
      return false;
  }
}

/** SCIMMY's test of an extension: some value other than undefined, at any depth. */
function hasActualValues(v: object): boolean {
  return Object.values(v).some((x) => (typeof x === "object" && x !== null ? hasActualValues(x) : x !== undefined));
}

/** Attributes of one level, by exact name, with the lower-case names that would only match through SCIMMY's folding. */
class Level {
  readonly byName = new Map<string, AttributeLike>();
  readonly folded = new Set<string>();
  /** Keys taken care of elsewhere (extension URNs at the top level). */
  readonly others = new Set<string>();

  constructor(readonly attributes: AttributeLike[]) {
    for (const a of attributes) {
      this.byName.set(a.name, a);
      this.folded.add(a.name.toLowerCase());
    }
  }

  /** Values of `source` by attribute, refusing keys that name an attribute in another case. */
  pick(source: Json): Map<AttributeLike, unknown> {
    const out = new Map<AttributeLike, unknown>();
    for (const key of Object.keys(source)) {
      const a = this.byName.get(key);
      if (a) out.set(a, source[key]);
      else if (this.others.has(key)) continue;
      else if (this.folded.has(key.toLowerCase())) bail();
    }
    return out;
  }
}

class Renderer {
  /** How many attributes and extensions the definition had when this was built (SCIMMY definitions can be extended). */
  readonly size: number;
  private readonly core: Level;
  private readonly extensions: { id: string; folded: string; level: Level }[];
  private readonly levels = new Map<AttributeLike, Level>();

  constructor(private readonly definition: DefinitionLike) {
    this.size = definition.attributes.length;
    const attrs = definition.attributes.filter(isAttribute);
    this.core = new Level(attrs);
    this.extensions = definition.attributes
      .filter((a): a is DefinitionLike => !isAttribute(a))
      .map((ext) => ({ id: ext.id, folded: ext.id.toLowerCase(), level: new Level(ext.attributes.filter(isAttribute).filter((a) => !a.config.shadow)) }));
    for (const ext of this.extensions) {
      this.core.folded.add(ext.folded);
      this.core.others.add(ext.id);
    }
  }

  private level(a: AttributeLike): Level {
    let l = this.levels.get(a);
    if (!l) this.levels.set(a, (l = new Level(a.subAttributes ?? [])));
    return l;
  }

  render(data: Json, basepath: string): Json | undefined {
    try {
      return this.resource(data, basepath);
    } catch (err) {
      if (err instanceof Bail || err instanceof TypeError) return undefined;
      throw err;
    }
  }

  private resource(data: Json, basepath: string): Json {
    const def = this.definition;
    const given = data.schemas;
    if (Array.isArray(given) && given.length && !given.includes(def.id)) bail();
    for (const key of Object.keys(data)) {
      const lower = key.toLowerCase();
      // Namespaced extension attributes (`urn:…:User:employeeNumber`) are merged by SCIMMY in ways not mirrored here.
      if (lower.startsWith("urn:") && this.extensions.some((e) => lower.startsWith(`${e.folded}:`))) bail();
    }
    const values = this.core.pick(data);
    const extensionValues: (Json | undefined)[] = this.extensions.map((e) => {
      const v = data[e.id];
      if (v === undefined) return undefined;
      return isPlainObject(v) ? v : bail();
    });
    const schemas = [
      ...new Set([def.id, ...this.extensions.filter((_, i) => extensionValues[i] !== undefined).map((e) => e.id), ...(Array.isArray(given) ? given : [])]),
    ];
    const meta = { ...(isPlainObject(data.meta) ? data.meta : {}), resourceType: def.name, location: `${basepath}${data.id ? `/${data.id}` : ""}` };
    const out: Json = {};
    for (const a of this.core.attributes) {
      const source = a.name === "schemas" ? schemas : a.name === "meta" ? meta : values.get(a);
      const v = this.value(a, source);
      if (v !== undefined && !leftOut(a)) out[a.name] = v;
    }
    this.extensions.forEach((ext, i) => {
      const source = extensionValues[i];
      // An empty extension object is left out, its URN kept in schemas, as SCIMMY does.
      if (source === undefined || !Object.keys(source).length) return;
      const rendered = this.extension(ext.level, source);
      // SCIMMY drops an extension with no value left in it (`{manager: {}}` too), and its URN with it: not mirrored.
      if (!hasActualValues(rendered)) bail();
      out[ext.id] = rendered;
    });
    return out;
  }

  private extension(level: Level, source: Json): Json {
    const values = level.pick(source);
    const out: Json = {};
    for (const a of level.attributes) {
      const v = this.value(a, values.get(a));
      if (v !== undefined && !leftOut(a)) out[a.name] = v;
    }
    return out;
  }

  /** One attribute's value as SCIMMY coerces it outbound; undefined when it is not shown. */
  private value(a: AttributeLike, source: unknown): unknown {
    if (a.type !== "complex") {
      if (a.config.direction === "in") return undefined;
      if (plainScalar(a, source)) return source;
      const v = a.coerce(source, OUT);
      // A multi-valued scalar comes back as a Proxy over a plain array: copy it out.
      return Array.isArray(v) ? [...v] : v;
    }
    const { direction, required, multiValued, canonicalValues } = a.config;
    if (direction === "in") return undefined;
    // null counts as absent, except where SCIMMY wants a list.
    if (source === undefined || (source === null && !multiValued)) return required ? bail() : undefined;
    if (Array.isArray(canonicalValues)) bail();
    if (multiValued) {
      if (!Array.isArray(source)) bail();
      return (source as unknown[]).map((el) => this.complex(a, el));
    }
    return this.complex(a, source);
  }

  private complex(a: AttributeLike, source: unknown): Json {
    if (!isPlainObject(source)) bail();
    const level = this.level(a);
    const values = level.pick(source as Json);
    const out: Json = {};
    // Keys in the order the source gives them, as SCIMMY's complex values keep them.
    for (const [sub, raw] of values) {
      const v = this.value(sub, raw);
      if (v !== undefined && !leftOut(sub)) out[sub.name] = v;
    }
    // Required sub-attributes that are missing fail in SCIMMY.
    for (const sub of level.attributes) if (!values.has(sub) && sub.config.required && sub.config.direction !== "in") bail();
    return out;
  }
}

const renderers = new WeakMap<object, Renderer>();

/**
 * The outbound JSON SCIMMY would give for `data` as a resource of `Schema` (a declared SCIMMY schema class, with its
 * extensions), or undefined when SCIMMY must render it (see the top of this file).
 */
export function renderOut(Schema: { definition: unknown }, data: Json, basepath: string): Json | undefined {
  const definition = Schema.definition as DefinitionLike;
  let r = renderers.get(definition);
  if (!r || r.size !== definition.attributes.length) renderers.set(definition, (r = new Renderer(definition)));
  return r.render(data, basepath);
}
