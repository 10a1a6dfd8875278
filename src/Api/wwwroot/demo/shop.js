// The demo shop: every recommendation, suggestion and event goes through the browser client (sessionrec.js) with a
// publishable key. Views are hash routes: #/ (home), #/search/<query>, #/product/<id>, #/basket.
import { SessionRecClient } from "./sessionrec.js";

const $ = (selector) => document.querySelector(selector);
const view = $("#view");
const basketKey = "demo.basket";

// The key travels in the fragment (never sent to the server), is kept for this tab, and leaves the address bar.
const fragmentKey = new URLSearchParams(location.hash.slice(1)).get("key");
if (fragmentKey) {
  sessionStorage.setItem("demo.key", fragmentKey);
  history.replaceState(null, "", location.pathname + "#/");
}

const key = sessionStorage.getItem("demo.key");
if (!key) {
  $("#key-form").hidden = false;
  $("#key-form form").addEventListener("submit", (e) => {
    e.preventDefault();
    sessionStorage.setItem("demo.key", $("#key-input").value.trim());
    location.hash = "#/";
    location.reload();
  });
} else {
  start(key);
}

function start(key) {
  // What this page asked for and sent, for the browser test and for anyone curious (window.shop in the console).
  const shop = { served: [], suggested: [], tracked: [], errors: [] };
  const client = new SessionRecClient({
    key,
    onTrack: (event) => shop.tracked.push(event),
    onError: (error) => {
      shop.errors.push({ status: error.status, title: error.title });
      if (error.status === 0 || error.status >= 500) showStatus("The service is unreachable: your activity is kept and sent when it is back.");
    },
  });
  shop.client = client;
  window.shop = shop;
  setInterval(() => {
    $("#pending").textContent = String(client.pending);
    if (client.pending === 0 && $("#status").dataset.kind === "offline") hideStatus();
  }, 250);

  wireSearchBox(client, shop);
  updateBasketCount();
  window.addEventListener("hashchange", () => route(client, shop));
  route(client, shop);
}

async function route(client, shop) {
  const [, name, arg] = location.hash.match(/^#\/([a-z]*)\/?(.*)$/) ?? [];
  const value = arg ? decodeURIComponent(arg) : "";
  view.replaceChildren();
  view.dataset.view = name || "home";
  window.scrollTo(0, 0);
  if (name === "product" && value) return productPage(client, shop, value);
  if (name === "search" && value) return searchPage(client, shop, value);
  if (name === "basket") return basketPage(client);
  return homePage(client, shop);
}

async function homePage(client, shop) {
  view.append(heading("Welcome"), paragraph("Browse, search or pick a suggestion: the rows below follow what you do in this session."));
  await row(client, shop, "recommended", "Recommended for you", {});
}

async function searchPage(client, shop, query) {
  view.append(heading(`Results for “${query}”`));
  // The search itself is an event: the next recommendations follow it.
  client.search(query);
  await client.flush();
  await row(client, shop, "search-results", "Picked for your search", {});
}

async function productPage(client, shop, id) {
  client.view(id);
  const [item] = await safely(() => client.items([id]), []);
  const panel = element("section", { class: "product", "data-item": id });
  if (item) {
    panel.append(
      element("h1", {}, item.title || item.id),
      element("p", { class: "meta" }, [item.brand, ...(item.categories ?? [])].filter(Boolean).join(" · ")),
      element("p", { class: "price" }, item.price != null ? `$${Number(item.price).toFixed(2)}` : ""),
    );
  } else {
    panel.append(element("h1", {}, id), element("p", { class: "meta" }, "Details are unavailable right now."));
  }

  const add = element("button", { id: "add-to-basket", type: "button" }, "Add to basket");
  add.addEventListener("click", () => {
    client.addToCart(id);
    const basket = readBasket();
    basket.push({ id, title: item?.title ?? id, price: item?.price ?? null });
    writeBasket(basket);
    add.textContent = "Added ✓";
  });
  panel.append(add);
  view.append(panel);

  // The view above is queued; sending it first lets "recommended for you" follow it.
  await client.flush();
  await Promise.all([
    row(client, shop, "also-viewed", "People also viewed", { contextItem: id, exclude: [id] }),
    row(client, shop, "recommended", "Recommended for you", { exclude: [id] }),
  ]);
}

function basketPage(client) {
  const basket = readBasket();
  view.append(heading("Your basket"));
  if (basket.length === 0) {
    view.append(paragraph("Your basket is empty."));
    return;
  }

  const list = element("ul", { class: "basket" });
  for (const line of basket) {
    list.append(element("li", { "data-item": line.id }, `${line.title}${line.price != null ? ` — $${Number(line.price).toFixed(2)}` : ""}`));
  }

  const order = element("button", { id: "place-order", type: "button" }, "Place order");
  order.addEventListener("click", () => {
    for (const line of basket) client.purchase(line.id);
    writeBasket([]);
    view.replaceChildren(heading("Thank you!"), paragraph("Your order is placed."));
  });
  view.append(list, order);
}

/** One row of recommendations: cards with title, price and the source and reason the service gave. */
async function row(client, shop, name, title, options) {
  const section = element("section", { class: "row", "data-row": name });
  const list = element("div", { class: "cards" });
  section.append(element("h2", {}, title), list);
  view.append(section);
  try {
    const recs = await client.recommend({ k: 6, details: true, ...options });
    shop.served.push({ row: name, requestId: recs.request_id, items: recs.items.map((i) => i.item_id) });
    section.dataset.requestId = recs.request_id;
    section.querySelector("h2").append(element("small", {}, ` ${recs.model_version}`));
    for (const rec of recs.items) {
      const card = element("a", { class: "card", href: `#/product/${encodeURIComponent(rec.item_id)}`, "data-item": rec.item_id, "data-position": String(rec.position) });
      card.append(
        element("span", { class: "title" }, rec.item?.title || rec.item_id),
        element("span", { class: "meta" }, rec.item?.brand ?? ""),
        element("span", { class: "price" }, rec.item?.price != null ? `$${Number(rec.item.price).toFixed(2)}` : ""),
        element("span", { class: "why", title: rec.reason }, `${rec.source}: ${rec.reason}`),
      );
      // The card knows its list: the click names that list's request id and the card's position (an item shown in
      // both rows is attributed to the row clicked, not to the list that served it last).
      card.addEventListener("click", () => client.click(rec.item_id, { requestId: recs.request_id, position: rec.position }));
      list.append(card);
    }

    if (recs.items.length === 0) list.append(paragraph("Nothing to show yet."));
  } catch (error) {
    list.append(paragraph(`Recommendations are unavailable right now (${error.title ?? error.message}).`));
  }
}

function wireSearchBox(client, shop) {
  const box = $("#search");
  const dropdown = $("#suggestions");
  const show = (answer) => {
    if (!answer) return; // superseded by a newer keystroke
    shop.suggested.push({ requestId: answer.request_id, query: answer.query, texts: answer.suggestions.map((s) => s.text) });
    dropdown.replaceChildren();
    for (const suggestion of answer.suggestions) {
      const li = element("li", { role: "option", "data-text": suggestion.text, "data-source": suggestion.source },
        element("span", {}, suggestion.text), element("small", {}, suggestion.source));
      li.addEventListener("mousedown", (e) => {
        e.preventDefault();
        pick(suggestion);
      });
      dropdown.append(li);
    }

    dropdown.hidden = answer.suggestions.length === 0;
  };
  const ask = () => client.suggest(box.value, { k: 8 }).then(show, () => {
    dropdown.hidden = true;
  });
  const pick = (suggestion) => {
    client.suggestionClick(suggestion);
    close();
    box.value = suggestion.text;
    location.hash = `#/search/${encodeURIComponent(suggestion.text)}`;
  };
  const close = () => {
    client.cancelSuggestions();
    dropdown.hidden = true;
  };

  box.addEventListener("input", ask);
  box.addEventListener("focus", ask);
  box.addEventListener("blur", close);
  box.addEventListener("keydown", (e) => {
    if (e.key === "Escape") close();
  });
  $("#search-form").addEventListener("submit", (e) => {
    e.preventDefault();
    close();
    if (box.value.trim()) location.hash = `#/search/${encodeURIComponent(box.value.trim())}`;
  });
}

async function safely(action, fallback) {
  try {
    return await action();
  } catch {
    return fallback;
  }
}

function readBasket() {
  try {
    return JSON.parse(localStorage.getItem(basketKey) ?? "[]");
  } catch {
    return [];
  }
}

function writeBasket(basket) {
  localStorage.setItem(basketKey, JSON.stringify(basket));
  updateBasketCount();
}

function updateBasketCount() {
  $("#basket-count").textContent = String(readBasket().length);
}

function showStatus(text) {
  const status = $("#status");
  status.textContent = text;
  status.dataset.kind = "offline";
  status.hidden = false;
}

function hideStatus() {
  const status = $("#status");
  status.hidden = true;
  delete status.dataset.kind;
}

function heading(text) {
  return element("h1", {}, text);
}

function paragraph(text) {
  return element("p", {}, text);
}

function element(tag, attributes, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  for (const child of children.flat()) node.append(child);
  return node;
}
