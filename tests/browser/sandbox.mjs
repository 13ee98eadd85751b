// Drives Debian's chromium through tg-emulator's sandbox page as a user
// would: /start, the menu, a generation form, the result; then English.
// Usage: node sandbox.mjs <emulator base URL> <screenshot.png>
// Exit 0 when everything was seen; 1 (with what was missing) otherwise.
import { chromium } from "playwright-core";

const [base, screenshot] = process.argv.slice(2);
const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";
const browser = await chromium.launch({
  executablePath,
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
});
let failed = false;
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  page.setDefaultTimeout(20000);
  page.on("pageerror", (e) => console.error(`page error: ${e.message}`));
  await page.goto(`${base}/`);
  // Who we are: a Russian-speaking user.
  await page.fill("#user-id", "4242");
  await page.fill("#user-name", "Alex");
  await page.selectOption("#user-lang", "ru");
  await page.click("#who button[type=submit]");
  const send = async (text) => {
    await page.fill("#text", text);
    await page.press("#text", "Enter");
  };
  const bot = (text) => page.locator(".msg.bot", { hasText: text }).last();
  await send("/start");
  await bot("Привет, Alex").waitFor();
  console.log("menu shown in Russian");
  await page.locator(".msg.bot button", { hasText: "Картинка по тексту" }).last().click();
  await page.locator(".msg.bot button", { hasText: "Z-Image" }).last().click();
  await page.locator(".msg.bot button", { hasText: "16:9" }).last().click();
  await page.locator(".msg.bot button", { hasText: "✅ 16:9" }).last().waitFor();
  await page.locator(".msg.bot button", { hasText: "Далее" }).last().click();
  await bot("Опишите, что хотите получить").waitFor();
  await send("маяк в шторм, масляная живопись");
  await bot("Проверьте и подтвердите").waitFor();
  await page.locator(".msg.bot button", { hasText: "Сгенерировать" }).last().click();
  await page.locator(".msg.bot img").last().waitFor({ timeout: 45000 });
  console.log("generated image arrived");
  await page.locator("#jobs li[data-status=succeeded]").first().waitFor({ timeout: 30000 });
  await page.waitForTimeout(300);
  await page.screenshot({ path: screenshot });
  // Switch the language: the menu comes in English.
  await send("/language");
  await page.locator(".msg.bot button", { hasText: "English" }).last().click();
  await bot("Language: English.").waitFor();
  await page.locator(".msg.bot button", { hasText: "Image from text" }).last().waitFor();
  console.log("menu shown in English after switching");
} catch (e) {
  failed = true;
  console.error(`browser test failed: ${e.message}`);
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
