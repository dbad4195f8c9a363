// lvsd --plan: the reconciler's plan for a config against a kernel table.
#include "daemon/plan_preview.h"

#include <google/protobuf/text_format.h>
#include <gtest/gtest.h>

#include "ipvs/from_config.h"

namespace lvsd::daemon {
namespace {

config::Config parse(const std::string& text) {
  config::Config c;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &c)) << text;
  return c;
}

const char* kTwo = R"(
  virtual_service {
    address: "192.0.2.10:80" scheduler: "wrr" forwarding: DR
    real_server { address: "10.1.0.101:80" weight: 5 }
    real_server { address: "10.1.0.102:80" weight: 10 }
  })";

std::vector<std::string> lines(const std::vector<ipvs::Op>& ops) {
  std::vector<std::string> out;
  for (const auto& op : ops) out.push_back(op.toString());
  return out;
}

TEST(PlanPreview, EmptyKernelGetsEveryServiceAndServer) {
  auto cfg = parse(kTwo);
  auto ops = previewPlan(cfg, {});
  ASSERT_TRUE(ops.ok()) << ops.error().what();
  ASSERT_EQ(ops->size(), 3u);
  EXPECT_EQ((*ops)[0].kind, ipvs::OpKind::kAddService);
  EXPECT_EQ((*ops)[1].kind, ipvs::OpKind::kAddDestination);
  EXPECT_EQ((*ops)[2].kind, ipvs::OpKind::kAddDestination);
  std::string text = renderPreview(*ops, cfg, {});
  EXPECT_NE(text.find("add-service service tcp 192.0.2.10:80"), std::string::npos) << text;
  EXPECT_NE(text.find("3 operation(s) (every real server assumed healthy"), std::string::npos)
      << text;
}

TEST(PlanPreview, ATableInPlaceIsAdoptedWithNoOperation) {
  auto cfg = parse(kTwo);
  auto kernel = ipvs::tableFromConfig(cfg);
  ASSERT_TRUE(kernel.ok());
  auto ops = previewPlan(cfg, *kernel);
  ASSERT_TRUE(ops.ok());
  EXPECT_TRUE(ops->empty()) << ::testing::PrintToString(lines(*ops));
  EXPECT_NE(renderPreview(*ops, cfg, *kernel).find("0 operation(s): the kernel's table already matches"),
            std::string::npos);
}

TEST(PlanPreview, EditsInPlaceAndLeavesForeignServicesAlone) {
  auto cfg = parse(kTwo);
  auto kernel = *ipvs::tableFromConfig(cfg);
  kernel[0].destinations[1].weight = 3;  // drifted
  ipvs::VirtualServer foreign = kernel[0];
  foreign.service.key = *ipvs::serviceKeyFromConfig(parse(R"(
    virtual_service { address: "192.0.2.99:443" real_server { address: "10.1.0.9:443" } })")
                                                         .virtual_service(0));
  kernel.push_back(foreign);
  auto ops = previewPlan(cfg, kernel);
  ASSERT_TRUE(ops.ok());
  ASSERT_EQ(ops->size(), 1u) << ::testing::PrintToString(lines(*ops));
  EXPECT_EQ((*ops)[0].kind, ipvs::OpKind::kEditDestination);
  EXPECT_EQ((*ops)[0].dest.weight, 10u);
  EXPECT_NE(renderPreview(*ops, cfg, kernel).find("1 service(s) not in the config left alone"),
            std::string::npos);

  // Owning the whole table, the foreign service goes.
  cfg.mutable_ipvs()->set_ownership(config::Ipvs::WHOLE_TABLE);
  ops = previewPlan(cfg, kernel);
  ASSERT_TRUE(ops.ok());
  ASSERT_EQ(ops->size(), 2u);
  EXPECT_EQ((*ops)[1].kind, ipvs::OpKind::kDeleteService);
}

TEST(PlanPreview, AnInvalidServiceIsAnError) {
  auto ops = previewPlan(parse(R"(virtual_service { address: "not-an-address" })"), {});
  EXPECT_FALSE(ops.ok());
}

}  // namespace
}  // namespace lvsd::daemon
