import { routeTemplate } from "../../../src/digicert/observer";

describe("routeTemplate (the endpoint label of DigiCert call metrics)", () => {
  test.each([
    ["/user", "/user"],
    ["/user?filters[username]=a@b.c", "/user"],
    ["/user/me", "/user/me"],
    ["/user/1000001", "/user/{id}"],
    ["/user/1000001/role", "/user/{id}/role"],
    // A username is personal data and unbounded: never a label value.
    ["/user/availability/jill.valentine%40example.com", "/user/availability/{id}"],
    ["/user/6a1f0c2e-8d3b-4c7a-9e5f-0123456789ab", "/user/{id}"],
    ["/user/6a1f0c2e-8d3b-4c7a-9e5f-0123456789ab/disable", "/user/{id}/disable"],
    ["/user/6a1f0c2e-8d3b-4c7a-9e5f-0123456789ab/enable", "/user/{id}/enable"],
    ["/container/12/role", "/container/{id}/role"],
    ["/role", "/role"],
    ["/account", "/account"],
    ["/", "/"],
    // Anything unknown is an id, and depth is capped: a surprise path cannot multiply the label values.
    ["/user/alice%40example.com", "/user/{id}"],
    ["/a/b/c/d/e/f/g/h", "/{id}/{id}/{id}/{id}/{id}/{id}/{more}"],
  ])("%s → %s", (path, template) => {
    expect(routeTemplate(path)).toBe(template);
  });
});
