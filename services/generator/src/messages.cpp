// User-facing texts of the generator.
#include "messages.hpp"

#include <map>
#include <utility>

namespace kiebot::generator {

std::string message(const std::string& language, const std::string& key) {
  static const std::map<std::string, std::pair<const char*, const char*>> texts{
      {"generating", {"⏳ Генерирую…", "⏳ Generating…"}},
      {"done", {"✅ Готово", "✅ Done"}},
      {"links", {"Файл слишком большой для Telegram, вот ссылка:", "The file is too large for Telegram, here is the link:"}},
      {"link_expires", {"Ссылка действует до", "The link works until"}},
      {"try_again", {"🔁 Попробовать снова", "🔁 Try again"}},
      {"timeout", {"⌛ Генерация не уложилась в отведённое время. Деньги не списаны.",
                   "⌛ The generation took too long. You were not charged."}},
      {"kie_failed", {"😔 Не получилось сгенерировать. Деньги не списаны, попробуйте ещё раз или измените запрос.",
                      "😔 The generation failed. You were not charged; try again or change the prompt."}},
      {"kie_credits", {"🛠 Сервис генерации временно недоступен. Деньги не списаны, попробуйте позже.",
                       "🛠 The generation service is temporarily unavailable. You were not charged; please try later."}},
      {"invalid_input", {"⚠️ Модель не приняла параметры запроса. Деньги не списаны.",
                         "⚠️ The model did not accept the request's parameters. You were not charged."}},
      {"ambiguous_submit", {"⚠️ Не удалось подтвердить запуск генерации. Деньги не списаны, попробуйте ещё раз.",
                            "⚠️ We could not confirm that the generation started. You were not charged; please try again."}},
      {"unsafe_result_url", {"⚠️ Сервис генерации вернул недопустимую ссылку на результат. Деньги не списаны.",
                             "⚠️ The generation service returned an unacceptable result link. You were not charged."}},
      {"internal_error", {"🛠 Что-то пошло не так на нашей стороне. Деньги не списаны, попробуйте ещё раз.",
                          "🛠 Something went wrong on our side. You were not charged; please try again."}},
      {"kie_rejected", {"🛠 Сервис генерации отклонил запрос. Деньги не списаны, попробуйте позже.",
                        "🛠 The generation service refused the request. You were not charged; please try later."}},
  };
  auto it = texts.find(key);
  if (it == texts.end()) it = texts.find("kie_failed");
  return language == "en" ? it->second.second : it->second.first;
}

}  // namespace kiebot::generator
