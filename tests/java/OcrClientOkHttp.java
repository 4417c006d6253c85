// From ../shared/seed/README.zh.md, "## Java 调用示例" / "### 使用 OkHttp（推荐）", unchanged.
// At run time tests/test_seed_java_clients.py replaces "http://localhost:8000" with the live test server's
// URL and "/path/to/images" with a book folder under SCAN_ROOTS before compiling, and runs main() in a
// folder holding test.jpg. It needs OkHttp 4 (RequestBody.create(File, MediaType) and
// RequestBody.create(String, MediaType)); the test skips it where only OkHttp 3 is installed.
import okhttp3.*;
import java.io.File;
import java.io.IOException;

public class OcrClientOkHttp {

    private static final String API_URL = "http://localhost:8000";
    private static final MediaType MEDIA_TYPE_JPEG = MediaType.parse("image/jpeg");

    private final OkHttpClient client = new OkHttpClient();

    /**
     * 识别单张图片
     */
    public String recognizeImage(File imageFile) throws IOException {
        RequestBody requestBody = new MultipartBody.Builder()
            .setType(MultipartBody.FORM)
            .addFormDataPart("file", imageFile.getName(),
                RequestBody.create(imageFile, MEDIA_TYPE_JPEG))
            .addFormDataPart("lang", "ch")
            .addFormDataPart("use_angle_cls", "true")
            .build();

        Request request = new Request.Builder()
            .url(API_URL + "/api/ocr/recognize")
            .post(requestBody)
            .build();

        try (Response response = client.newCall(request).execute()) {
            return response.body().string();
        }
    }

    /**
     * 批量扫描（异步任务）
     */
    public String createBatchTask(String bookId, String directory) throws IOException {
        String json = String.format("{\"book_id\":\"%s\",\"directory\":\"%s\",\"lang\":\"ch\",\"recursive\":true}",
            bookId, directory);

        RequestBody body = RequestBody.create(json, MediaType.parse("application/json"));
        Request request = new Request.Builder()
            .url(API_URL + "/api/ocr/batch/scan")
            .post(body)
            .build();

        try (Response response = client.newCall(request).execute()) {
            return response.body().string();
        }
    }

    /**
     * 查询任务状态
     */
    public String getTaskStatus(String taskId) throws IOException {
        Request request = new Request.Builder()
            .url(API_URL + "/api/ocr/batch/status/" + taskId)
            .get()
            .build();

        try (Response response = client.newCall(request).execute()) {
            return response.body().string();
        }
    }

    public static void main(String[] args) {
        OcrClientOkHttp client = new OcrClientOkHttp();
        try {
            // 单个识别
            String result = client.recognizeImage(new File("test.jpg"));
            System.out.println("识别结果: " + result);

            // 创建批量任务
            String taskResponse = client.createBatchTask("廖氏族谱", "/path/to/images");
            System.out.println("任务创建: " + taskResponse);

        } catch (IOException e) {
            e.printStackTrace();
        }
    }
}
